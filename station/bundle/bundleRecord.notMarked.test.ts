/**
 * An export whose file was written whole but that the station database could not then mark
 * written (a running station holding the write lock past the busy timeout): the file must not
 * stay on the stick, since the station counts such a bundle as carrying nothing and exports its
 * rows again. bundleExport.again.test.ts has the failed writes themselves.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportableCount } from './bundleList.js';
import { exportBundle } from './bundleExport.js';
import { exportRequest, openBundle } from './testing/exportTestKit.js';

// The moment between the file's write and its mark is the one a test cannot reach from outside:
// the write is the real one, then runs what the test puts here.
const afterWrite = vi.hoisted(() => ({ run: undefined as (() => void) | undefined }));
vi.mock('./bundleFiles.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./bundleFiles.js')>();
  return {
    ...actual,
    writeDurably: (...args: Parameters<typeof actual.writeDurably>) => {
      actual.writeDurably(...args);
      const run = afterWrite.run;
      afterWrite.run = undefined;
      run?.();
    },
  };
});

let station: SyncTestStation;
let other: Database.Database | undefined;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(async () => {
  if (other?.inTransaction) other.exec('ROLLBACK');
  other?.close();
  other = undefined;
  await station.close();
});

describe('writeRecorded: a bundle written but not marked so', () => {
  it('removes the file and fails with BUNDLE_WRITE_FAILED when the database stays locked', async () => {
    const a = station.provision('A1');
    // Another station process on the same data folder takes the write lock once the file is
    // written, and holds it past this connection's (short) busy timeout.
    station.db.pragma('busy_timeout = 50');
    afterWrite.run = () => {
      other = new Database(join(station.dir, 'station.db'));
      other.exec('BEGIN IMMEDIATE');
    };
    const file = join(station.dir, 'outbox-1.bundle');

    const failed = exportBundle(exportRequest(station, file));

    await expect(failed).rejects.toMatchObject({
      code: 'BUNDLE_WRITE_FAILED',
      message: expect.stringMatching(/could not record it .* the file was removed .* Export again/),
      detail: expect.stringMatching(/SQLITE_BUSY.*carries nothing and the file was removed/),
    });
    expect(existsSync(file)).toBe(false);
    other!.exec('ROLLBACK');
    // Still locked, the record could not be withdrawn either: it stays, never marked written,
    // which carries nothing (as after a crash at that point).
    const bundles = station.db.prepare('SELECT written_at AS writtenAt FROM bundles').all();
    expect(bundles).toEqual([{ writtenAt: null }]);
    expect(exportableCount(station.db, false)).toBe(1);

    const next = join(station.dir, 'outbox-2.bundle');
    await exportBundle(exportRequest(station, next));
    expect((await openBundle(next)).enrollments.map((e) => e.id)).toEqual([a]);
  });
});
