import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { beginDevice } from './storeFaults.js';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, 'openStationDatabaseChild.ts');
/** Root may write any file, so as root the child runs as nobody, for whom the mode counts. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
/**
 * Why the child cannot run here, or undefined: as root it runs as nobody, who must be able to
 * read this checkout (a clone under /root is closed to nobody).
 */
const childCannotRun: string | undefined =
  asRoot &&
  spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CHILD)})`], {
    uid: NOBODY,
    gid: NOBODY,
  }).status !== 0
    ? `user nobody cannot read ${CHILD}, and root may write a read-only file`
    : undefined;

const root = mkdtempSync(join(tmpdir(), 'ls-readonly-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A station database with two passes, in a folder the child may write, the file read-only. */
function readOnlyStation(): string {
  const folder = join(root, 'data');
  const path = join(folder, 'station.db');
  const db = openStationDatabase(path);
  const store = new ProvisioningStore(db);
  for (const serial of ['SN-1', 'SN-2']) store.commitPass(beginDevice(db, store, serial));
  db.close();
  chmodSync(root, 0o755);
  if (asRoot) chownSync(folder, NOBODY, NOBODY);
  chmodSync(path, 0o444);
  return path;
}

async function openInChild(path: string, ...flags: string[]) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, path, ...flags], {
    cwd: process.cwd(),
    ...(asRoot && { uid: NOBODY, gid: NOBODY }),
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.skipIf(childCannotRun)('a station database the station may only read', () => {
  it('is opened for reading, refused for a line, and every write says why', async () => {
    const path = readOnlyStation();
    // What `station queue stats` needs: the outbox, read.
    expect(await openInChild(path)).toEqual({
      opened: true,
      pending: 2,
      begun: false,
      code: 'STORE_READ_ONLY',
    });
    // What a line needs: refused at start, not at its first device.
    expect(await openInChild(path, '--require-writable')).toEqual({
      opened: false,
      code: 'STORE_READ_ONLY',
      message: expect.stringContaining(`The station database ${path} is read-only for the user`),
      detail: `open ${path}: attempt to write a readonly database; EACCES: permission denied, access '${path}'`,
    });
  });

  // A data folder the station's user may not write to (another user's, or its write permission
  // taken away) said "cannot open its database file" (STORE_OPEN_FAILED).
  it('refuses a data folder this user may not write to, naming the folder and the user', async () => {
    const folder = join(root, 'closed');
    chmodSync(root, 0o755);
    mkdirSync(folder);
    chmodSync(folder, 0o555);
    const path = join(folder, 'station.db');
    const user = asRoot ? 'uid 65534' : `uid ${process.getuid?.()}`;
    expect(await openInChild(path, '--require-writable')).toEqual({
      opened: false,
      code: 'STORE_READ_ONLY',
      message: expect.stringMatching(
        new RegExp(
          `^The station data folder ${folder} is read-only for the user the station runs as \\([^)]*${user}\\): .*write permission on the folder`,
        ),
      ),
      detail: `open ${path}: unable to open database file; EACCES: permission denied, access '${folder}'`,
    });
  });
});
