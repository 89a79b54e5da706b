import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from './provisioningStore.js';
import { closeStationDatabase, openStationDatabase } from './stationDatabase.js';

/**
 * The station database holds every device's record: its file, WAL and WAL index are for the
 * station's user alone (0600), as the rest of the data folder is (0700), whatever the umask.
 * Real SQLite files; the WAL and index are the ones SQLite itself creates.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'station-db-modes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string): number => statSync(path).mode & 0o777;
const FILES = ['station.db', 'station.db-wal', 'station.db-shm'];

/** Opens the database in `dir`/data, writes through it (so SQLite makes the WAL), and checks. */
function openWriteAndCheck(path: string): void {
  const db = openStationDatabase(path, { requireWritable: true });
  try {
    new ProvisioningStore(db).beginRun('/dev/ttyUSB0', 'line1', 1_000);
    for (const file of FILES)
      expect([file, modeOf(join(dir, 'data', file))]).toEqual([file, 0o600]);
  } finally {
    closeStationDatabase(db);
  }
}

describe.skipIf(process.platform === 'win32')('the station database files', () => {
  // A umask that already takes read from group and others would make them 0600 anyway; the
  // narrowing test below fails without the station's care under any umask.
  it.skipIf((process.umask() & 0o044) === 0o044)(
    'are created 0600 in a folder made 0700, the WAL and its index too',
    () => {
      const path = join(dir, 'data', 'station.db');
      openWriteAndCheck(path);
      expect(modeOf(join(dir, 'data'))).toBe(0o700);
      expect(modeOf(path)).toBe(0o600);
    },
  );

  it('are narrowed to 0600 when an earlier version left them readable by everyone', () => {
    const path = join(dir, 'data', 'station.db');
    closeStationDatabase(openStationDatabase(path));
    chmodSync(path, 0o644);
    // A WAL and index left behind (a station that did not stop cleanly), as SQLite made them.
    writeFileSync(`${path}-wal`, '');
    writeFileSync(`${path}-shm`, '');
    chmodSync(`${path}-wal`, 0o644);
    chmodSync(`${path}-shm`, 0o644);
    openWriteAndCheck(path);
  });
});
