/**
 * A lock that kept the sync worker from writing to the station database (recording what DPS
 * answered, or a look of its own) is over once the database takes a write again: the worker
 * stops reporting it even when nothing is left to send, so the UI shows no stale error, and the
 * line's log says once that it is over. Real parts: a real station database file, its write lock
 * held by a real `sqlite3` shell in its own process, the sync worker and the line's sync log
 * wired as productionStation.ts wires them.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncLog } from '../production/syncLog.js';
import { endLockHolders, holdWriteLock } from '../store/testing/sqliteLockHolder.js';
import { groupKeyFingerprints } from './groupKeyFingerprint.js';
import type { SyncWorker } from './syncWorker.js';
import { progressReached, stateReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
  // The worker's connection gives up on a lock after 20 ms instead of 5 s.
  station.db.pragma('busy_timeout = 20');
});
afterEach(async () => {
  await endLockHolders();
  await station.close();
});

/** The line's sync log of `worker`, as productionStation.ts writes it. */
function syncLogLines(worker: SyncWorker): string[] {
  const log = new SyncLog();
  const lines: string[] = [];
  worker.onStateChange.on((change) => {
    const { lastError, heldUntil } = worker.status();
    const text = log.line(change, lastError, heldUntil);
    if (text !== undefined) lines.push(text);
  });
  return lines;
}

const lockTheDatabase = () => holdWriteLock(join(station.dir, 'station.db'));
const overLines = (lines: string[]) => lines.filter((line) => line.includes('is over'));

describe('SyncWorker: once a lock on the station database passes', () => {
  it('clears the error when the answers it could not record are recorded, with nothing left to send', async () => {
    station.provision('SN1');
    station.provision('SN2');
    const worker = station.worker();
    const lines = syncLogLines(worker);
    const bulk = station.dps.holdNext('bulkEnrollments');
    worker.start();
    await bulk.reached;
    // DPS applies the bulk while another program holds the lock: only recording is blocked.
    const lock = await lockTheDatabase();
    bulk.release();
    await stateReached(worker, 'backoff');
    expect(worker.status().lastError).toMatchObject({ code: 'SYNC_STORE_BUSY' });
    expect(station.statuses()).toEqual(['syncing', 'syncing']);

    await lock.release();
    await station.clock.advanceToNextTimer();
    const idle = await progressReached(worker, (p) => p.counts.synced === 2 && p.state === 'idle');
    expect(idle.lastError).toBeUndefined();
    expect(worker.status().lastError).toBeUndefined();
    expect(overLines(lines)).toEqual([
      expect.stringMatching(
        /^DPS sync: backoff -> idle: the station database is free again; the problem \[SYNC_STORE_BUSY\] logged since \S+ is over/,
      ),
    ]);

    // A later device's batch changes nothing: the problem was said to be over once.
    station.provision('SN3');
    await worker.syncNow();
    expect(worker.status()).toMatchObject({ state: 'idle', counts: { synced: 3 } });
    expect(worker.status().lastError).toBeUndefined();
    expect(overLines(lines)).toHaveLength(1);
    // DPS was asked once per batch: the answers kept through the lock were not asked again.
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments', 'bulkEnrollments']);
  });

  it('clears the error as soon as those answers are recorded, though its backoff still runs', async () => {
    station.provision('SN1');
    const worker = station.worker();
    const bulk = station.dps.holdNext('bulkEnrollments');
    worker.start();
    await bulk.reached;
    const lock = await lockTheDatabase();
    bulk.release();
    await stateReached(worker, 'backoff');
    const heldUntil = worker.status().heldUntil;
    expect(heldUntil).toBeDefined();

    await lock.release();
    // A device passes during the backoff: the look it starts records, and sends nothing yet.
    station.provision('SN2');
    worker.notify();
    const status = worker.status();
    expect(status).toMatchObject({ state: 'backoff', heldUntil, counts: { synced: 1 } });
    expect(status.lastError).toBeUndefined();
    expect(station.dps.calls).toHaveLength(1);
  });

  it('clears the error of a look the lock refused once a look claims under the write lock again', async () => {
    // A group member: its claim is the look's write, and DPS only shows its group.
    const key = randomBytes(32);
    await station.dps.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'group-1',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key.toString('base64') } },
    });
    const worker = station.worker({
      groupKeys: groupKeyFingerprints(() => Promise.resolve(new Uint8Array(key))),
    });
    const lines = syncLogLines(worker);
    worker.start();
    await stateReached(worker, 'idle');
    station.provisionGroupMember('SN1', 'group-1');
    const lock = await lockTheDatabase();
    worker.notify();
    expect(worker.status()).toMatchObject({
      state: 'backoff',
      lastError: { code: 'SYNC_STORE_BUSY', detail: 'STORE_BUSY: database is locked' },
    });

    await lock.release();
    await station.clock.advanceToNextTimer();
    const status = await progressReached(worker, (p) => p.state === 'idle');
    expect(status).toMatchObject({ state: 'idle', counts: { synced: 1, pending: 0 } });
    expect(status.lastError).toBeUndefined();
    expect(overLines(lines)).toEqual([
      expect.stringMatching(/^DPS sync: backoff -> \w+: the station database is free again/),
    ]);
    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'createOrUpdateEnrollmentGroup',
      'getEnrollmentGroup',
      'getEnrollmentGroupAttestation',
    ]);
  });
});
