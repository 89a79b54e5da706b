import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settle } from '../../station/sync/testing/manualClock.js';
import {
  progressReached,
  stateReached,
  SyncTestStation,
} from '../../station/sync/testing/syncTestStation.js';
import { corruptPagesOf, fillDatabase } from './storeFaults.js';

let station: SyncTestStation;
beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Whether `promise` has settled, and how, without waiting for it. */
async function outcomeOf(promise: Promise<unknown>): Promise<unknown> {
  const pending = Symbol('pending');
  const result = await Promise.race([
    promise.then(
      () => 'resolved',
      (err: unknown) => err,
    ),
    settle().then(() => pending),
  ]);
  return result === pending ? 'pending' : result;
}

describe('the sync worker when the station database refuses', () => {
  it('keeps what DPS answered on a full disk, says why, and records it once there is room', async () => {
    for (const serial of ['SN1', 'SN2', 'SN3']) station.provision(serial);
    const bulk = station.dps.holdNext('bulkEnrollments');
    const worker = station.worker();
    worker.start();
    await bulk.reached;
    const giveRoomBack = fillDatabase(station.db);
    bulk.release();
    await stateReached(worker, 'backoff');

    expect(station.dps.size).toBe(3);
    expect(station.statuses()).toEqual(['syncing', 'syncing', 'syncing']);
    expect(worker.status().lastError).toMatchObject({
      code: 'SYNC_STORE_FAILED',
      message: expect.stringContaining('check the disk of the station data folder'),
      detail: 'STORE_WRITE_FAILED: database or disk is full',
    });
    // "Sync now" (the CLI's `station sync now`) is told, instead of waiting for someone to
    // free the disk.
    expect(await outcomeOf(worker.syncNow())).toMatchObject({
      code: 'SYNC_STORE_FAILED',
      detail: 'STORE_WRITE_FAILED: database or disk is full',
    });

    giveRoomBack();
    await station.clock.advanceToNextTimer();
    const progress = await progressReached(worker, (p) => p.counts.synced === 3);
    expect(progress.counts).toMatchObject({ syncing: 0, pending: 0 });
    // Recorded from the answer kept in memory: DPS was asked once.
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments']);
  });

  it('neither crashes nor throws from status() when a read fails while a batch is out', async () => {
    for (const serial of ['SN1', 'SN2']) station.provision(serial);
    const bulk = station.dps.holdNext('bulkEnrollments');
    const worker = station.worker();
    // The line listens like this: every report reads the counts.
    worker.onProgress.on(() => undefined);
    worker.start();
    await bulk.reached;
    const file = join(station.dir, 'station.db');
    corruptPagesOf(station.db, file, 'outbox_counts');
    // A commit by another process makes the worker's connection read its pages again.
    const other = new Database(file);
    other
      .prepare(
        `INSERT INTO audit_events (at, actor, kind, subject, detail)
      VALUES ('2026-03-01T00:00:00.000Z', 'station', 'test.touch', 'x', '{}')`,
      )
      .run();
    other.close();
    bulk.release();
    await stateReached(worker, 'backoff');

    let status: ReturnType<typeof worker.status> | undefined;
    expect(() => (status = worker.status())).not.toThrow();
    expect(status?.lastError).toMatchObject({
      code: 'SYNC_STORE_FAILED',
      detail: 'STORE_DATABASE_CORRUPT: database disk image is malformed',
    });
    // The counts read before the damage are still shown.
    expect(status?.counts).toMatchObject({ syncing: 2 });
    await station.clock.advanceToNextTimer();
    await expect(worker.stop()).resolves.toBeUndefined();
  });
});
