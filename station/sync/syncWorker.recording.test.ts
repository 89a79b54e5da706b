import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { progressReached, stateReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;
let other: Database.Database | undefined;

beforeEach(() => {
  station = new SyncTestStation();
  // The worker's connection gives up on a lock after 20 ms instead of 5 s.
  station.db.pragma('busy_timeout = 20');
});
afterEach(async () => {
  other?.close();
  other = undefined;
  await station.close();
});

/** Another connection to the station's file holding its write lock, as a second process may. */
function holdWriteLock(): Database.Database {
  other = new Database(join(station.dir, 'station.db'));
  other.prepare('BEGIN IMMEDIATE').run();
  return other;
}

/**
 * Provisions `serials` and starts a worker whose first bulk call DPS applies while another
 * connection holds the write lock: the worker cannot record the answer.
 */
async function answerNotRecorded(serials: string[]) {
  for (const serial of serials) station.provision(serial);
  const bulk = station.dps.holdNext('bulkEnrollments');
  const worker = station.worker();
  worker.start();
  await bulk.reached;
  const lock = holdWriteLock();
  bulk.release();
  await stateReached(worker, 'backoff');
  return { worker, lock };
}

describe('SyncWorker: when the database refuses to record what DPS answered', () => {
  it('records it at the next look, so the rows leave `syncing` and "sync now" waits for them', async () => {
    const { worker, lock } = await answerNotRecorded(['SN1', 'SN2', 'SN3']);

    // DPS created all three; the station could not record it yet.
    expect(station.dps.size).toBe(3);
    expect(worker.status().lastError).toMatchObject({ code: 'SYNC_STORE_BUSY' });
    expect(worker.status().lastError?.detail).toContain('database is locked');
    expect(station.statuses()).toEqual(['syncing', 'syncing', 'syncing']);
    const synced = worker.syncNow();

    lock.prepare('COMMIT').run();
    await station.clock.advanceToNextTimer();
    const progress = await synced;

    expect(progress.counts).toMatchObject({ synced: 3, syncing: 0, pending: 0 });
    expect(progress.session.synced).toBe(3);
    // Recorded from DPS's answer, without asking DPS again.
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments']);
    expect([...station.dps.creations.values()]).toEqual([1, 1, 1]);
  });

  it('leaves rows it still cannot record at stop to be read back from DPS at the next start', async () => {
    const { worker, lock } = await answerNotRecorded(['SN1']);
    await worker.stop();
    expect(station.statuses()).toEqual(['syncing']);

    lock.prepare('COMMIT').run();
    worker.start();
    // The worker still waits out the backoff the refusal started.
    await station.clock.advanceToNextTimer();
    await progressReached(worker, (p) => p.counts.synced === 1);
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments', 'getEnrollment']);
    expect(station.rows()[0]!.syncNote).toBe('found in DPS');
  });
});

describe('SyncWorker: when the database refuses to count the outbox', () => {
  it('reports the refusal while it lasts and clears it once a count works again', async () => {
    station.provision('SN1');
    const worker = station.worker();
    const refusal = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_READ' });
    const counts = vi.spyOn(OutboxSyncStore.prototype, 'counts').mockImplementationOnce(() => {
      throw refusal;
    });
    expect(worker.status()).toMatchObject({
      counts: { pending: 0 },
      lastError: { code: 'SYNC_STORE_FAILED', detail: expect.stringContaining('STORE_IO_FAILED') },
    });
    counts.mockRestore();
    const status = worker.status();
    expect(status.counts.pending).toBe(1);
    expect(status.lastError).toBeUndefined();
  });
});
