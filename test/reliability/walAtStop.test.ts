/**
 * A station that stops while a supervisor's report has the database open. The report reads
 * through a read-only connection, which cannot fold the WAL into station.db when it closes last;
 * the station folds it at its stop, so station.db alone is the whole record afterwards, as the
 * backup rule in docs/real-line.md says.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import {
  closeStationDatabase,
  openStationDatabase,
  openStationDatabaseToRead,
} from '../../station/store/stationDatabase.js';
import { beginDevice } from './storeFaults.js';

const root = mkdtempSync(join(tmpdir(), 'ls-wal-stop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A station database in a folder of its own with a report open on it, and `passes` in its WAL. */
function stationWithReportOpen(name: string, passes: number) {
  const path = join(root, name, 'station.db');
  const station = openStationDatabase(path);
  const report = openStationDatabaseToRead(path);
  const store = new ProvisioningStore(station);
  for (let i = 0; i < passes; i++) store.commitPass(beginDevice(station, store, `${name}-${i}`));
  return { path, station, report };
}

/** How many enrollments a copy of station.db alone holds (what a backup of it would). */
function enrollmentsInCopyOf(path: string, name: string): number {
  const copy = join(root, `${name}-backup`, 'station.db');
  mkdirSync(join(root, `${name}-backup`));
  copyFileSync(path, copy);
  const db = openStationDatabase(copy);
  try {
    return db.prepare(`SELECT count(*) FROM enrollments`).pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('the station stops while a report has its database open', () => {
  it('folds the WAL into station.db, so the file alone holds every PASS', () => {
    const { path, station, report } = stationWithReportOpen('open-report', 20);
    expect(closeStationDatabase(station)).toEqual({ walFolded: true });
    report.close();
    expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
    expect(enrollmentsInCopyOf(path, 'open-report')).toBe(20);
  });

  it('says so when a report in the middle of a long read keeps it from folding', () => {
    const { station, report } = stationWithReportOpen('reading-report', 5);
    station.pragma('busy_timeout = 50');
    // A read in progress (an export walking the outbox) holds its snapshot of the WAL.
    const rows = report.prepare(`SELECT id FROM runs`).iterate();
    rows.next();
    expect(closeStationDatabase(station)).toEqual({ walFolded: false });
    rows.return?.();
    report.close();
  });
});
