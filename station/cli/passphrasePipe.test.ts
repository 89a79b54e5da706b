/**
 * A saved line started with standard input a pipe that stays open (ssh without -t, an IDE,
 * `docker run -i`) waited for the CA passphrase in silence, and the workstation looked hung. Real
 * processes of the CLI, a real CA and saved line; the passphrase written into the open pipe.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../test/e2e/realLineFolder.js';
import { line } from './lineCommand.js';
import { readPassphrase } from './passphrase.js';
import { stationProcess, type StationProcess } from './testing/stationProcess.js';
import { PassThrough } from 'node:stream';

const PASSPHRASE = 'line six passphrase';
let folder: RealLineFolder;
let run: StationProcess | undefined;

beforeEach(async () => {
  folder = await makeRealLineFolder(6, PASSPHRASE);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const flags = ['--profiles', folder.profilesFile, '--device', '/dev/ttyLS-none'];
  expect(await line(['save', ...flags, '--data-dir', folder.dataDir])).toBe(0);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  run?.child.kill('SIGKILL');
  await run?.exited;
  run = undefined;
  await rm(folder.dataDir, { recursive: true, force: true });
});

describe('a start waiting for the CA passphrase on a pipe left open', () => {
  it('says on standard error what it waits for and where else it can come from', async () => {
    run = stationProcess(['start', '--headless', '--port', '0', '--data-dir', folder.dataDir], {
      LINE_STATION_DATA: undefined,
    });
    const [notice] = await run.waitFor(/^Waiting for .*$/m, 'stderr');
    expect(notice).toBe(
      'Waiting for the CA passphrase on standard input, which is no terminal: one line, ended by Enter, never echoed by Line Station. Or set LINE_STATION_CA_PASSPHRASE, give the systemd credential line-station-ca-passphrase, run the command in a terminal (ssh -t), or start with --locked and unlock the line from its UI at this workstation.',
    );
    // Typed (written) into the open pipe, it starts the line, and is never shown.
    run.child.stdin.write(`${PASSPHRASE}\n`);
    await run.waitFor(/so Line Station runs the line saved in .* open http/, 'stdout');
    expect(await run.stop()).toBe(0);
    expect(run.stderr().match(/Waiting for/g)).toHaveLength(1);
    expect(`${run.stdout()}${run.stderr()}`).not.toContain(PASSPHRASE);
  }, 60_000);
});

describe('a secret piped in at once', () => {
  it('is read without the notice: scripts that check standard error stay clean', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    const stdin = new PassThrough();
    stdin.end('piped passphrase\n');
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(stdin as unknown as typeof process.stdin);
    const written = vi.spyOn(process.stderr, 'write');
    expect(await readPassphrase('CA passphrase: ')).toBe('piped passphrase');
    await new Promise((later) => setTimeout(later, 1_200));
    expect(written).not.toHaveBeenCalled();
  });
});
