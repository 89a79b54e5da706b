/**
 * A symmetric-key-group line with no group key stored is refused where the CA is checked (at
 * `line save` and at the line's start), not found out device by device at attest. Real CA, real
 * `keys set-group` (sealing under the CA passphrase), real SQLite for its audit trail.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../test/e2e/realLineFolder.js';
import { savedLinePath } from '../production/savedLine.js';
import { keys } from './keysCommand.js';
import { line } from './lineCommand.js';
import { serve } from './serveCommand.js';

const PASSPHRASE = 'line ten passphrase';
const GROUP = 'line10-sensors';
let folder: RealLineFolder;
let groupProfiles: string;

beforeEach(async () => {
  folder = await makeRealLineFolder(10, PASSPHRASE);
  groupProfiles = join(folder.dataDir, 'grp-line.json');
  await writeFile(
    groupProfiles,
    JSON.stringify({
      profiles: [
        {
          name: 'Group sensor',
          models: ['LS-DEMO-1'],
          dps: { idScope: '0ne00000A10' },
          attestation: { mode: 'symmetric-key-group', enrollmentGroupId: GROUP },
        },
      ],
    }),
  );
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(folder.dataDir, { recursive: true, force: true });
});

const lineFlags = (): string[] => [
  '--profiles',
  groupProfiles,
  '--device',
  '/dev/ttyLS-none',
  '--data-dir',
  folder.dataDir,
];

/** What a command threw, or a sentence saying it did not throw. */
async function thrown(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    (value) => `no refusal: ${String(value)}`,
    (err: unknown) => err,
  );
}

describe('a symmetric-key-group line', () => {
  it('is not saved, nor started, until its group key is stored; then it is', async () => {
    const refusal = {
      code: 'STATION_GROUP_KEY_MISSING',
      message: `Product "Group sensor" enrolls its devices in the group "${GROUP}", but no key is stored for that group in ${folder.dataDir}, so every device would fail. A supervisor stores the group's primary key (from DPS) first: \`station keys set-group --group ${GROUP} --data-dir ${folder.dataDir}\`.`,
    };
    expect(await thrown(line(['save', ...lineFlags()]))).toMatchObject(refusal);
    expect(existsSync(savedLinePath(folder.dataDir))).toBe(false);

    // Refused before the passphrase is asked: none is given here, and the pipe has none.
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    const until = new Promise(() => undefined);
    expect(await thrown(serve(lineFlags(), { print: () => undefined, until }))).toMatchObject(
      refusal,
    );
    expect(
      await thrown(serve(['--locked', ...lineFlags()], { print: () => undefined, until })),
    ).toMatchObject(refusal);

    // The command the refusal names, as a supervisor runs it.
    vi.stubEnv('LINE_STATION_GROUP_KEY', Buffer.alloc(32, 9).toString('base64'));
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    expect(await keys(['set-group', '--group', GROUP, '--data-dir', folder.dataDir])).toBe(0);
    expect(await line(['save', ...lineFlags()])).toBe(0);
    expect(existsSync(savedLinePath(folder.dataDir))).toBe(true);
  });
});
