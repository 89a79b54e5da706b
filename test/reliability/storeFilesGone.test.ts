import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { beginDevice, runAndCertificate } from './storeFaults.js';

let dir: string;
let path: string;
let db: Database.Database;
let store: ProvisioningStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ls-gone-'));
  path = join(dir, 'data', 'station.db');
  db = openStationDatabase(path);
  store = new ProvisioningStore(db);
  store.commitPass(beginDevice(db, store, 'SN-1'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const moved = (detail: RegExp) =>
  expect.objectContaining({
    code: 'STORE_DATABASE_MOVED',
    message: expect.stringContaining('put the data folder back'),
    detail: expect.stringMatching(detail),
  });

/** How many PASSes the file at `path` holds, as the next start of the station would read it. */
function passesOnDisk(): number {
  const reader = new Database(path, { readonly: true });
  try {
    return reader.prepare(`SELECT count(*) FROM runs WHERE state = 'pass'`).pluck().get() as number;
  } finally {
    reader.close();
  }
}

describe('the store when its files go away under the running station', () => {
  it('refuses to commit into a database whose folder was deleted, so no PASS is shown for nothing', () => {
    const device = beginDevice(db, store, 'SN-2');
    rmSync(join(dir, 'data'), { recursive: true });

    expect(() => store.commitPass(device)).toThrow(moved(/station\.db was deleted/));
    // Nor does a new run start: the next device is not touched.
    expect(() => store.beginRun('/dev/ttyUSB1', 'line7', Date.now())).toThrow(moved(/deleted/));
  });

  it('refuses once the database file alone is deleted, or its WAL', () => {
    const device = beginDevice(db, store, 'SN-2');
    rmSync(`${path}-wal`);
    expect(() => store.commitPass(device)).toThrow(moved(/station\.db-wal was deleted/));
    rmSync(path);
    expect(() => store.commitPass(device)).toThrow(moved(/station\.db was deleted/));
  });

  it('refuses once a copy is put in its place, and the commit lands in neither file', () => {
    const device = beginDevice(db, store, 'SN-2');
    // A backup restored over the running station's database, as `cp` + `mv` would.
    copyFileSync(path, join(dir, 'restored.db'));
    renameSync(join(dir, 'restored.db'), path);

    expect(() => store.commitPass(device)).toThrow(moved(/station\.db was replaced/));
    expect(runAndCertificate(db, device)).toMatchObject({ state: 'running', enrollments: 0 });
  });

  it('goes on committing when another process opens, checkpoints and closes the same files', () => {
    const other = new Database(path);
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.prepare(`SELECT count(*) FROM runs`).get();
    other.close();

    store.commitPass(beginDevice(db, store, 'SN-2'));
    expect(passesOnDisk()).toBe(2);
  });
});
