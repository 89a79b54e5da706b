import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settle } from './testing/manualClock.js';
import { progressReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const provisionMany = (n: number) =>
  Array.from({ length: n }, (_, i) => station.provision(`SN${String(i).padStart(2, '0')}`));

describe('SyncWorker: pause, resume, stop and the rate limit', () => {
  it('pauses mid-batch: the call in flight ends and is recorded, nothing new starts until resume', async () => {
    provisionMany(25);
    const bulk = station.dps.holdNext('bulkEnrollments');
    const worker = station.worker({ concurrency: 1 });
    worker.start();
    const waiting = worker.syncNow();
    await bulk.reached;

    let paused = false;
    const pausing = worker.pause().then(() => (paused = true));
    expect(worker.status().state).toBe('paused');
    await expect(waiting).rejects.toMatchObject({ code: 'SYNC_PAUSED' });
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_PAUSED' });
    await settle();
    expect(paused).toBe(false); // waits for the call in flight
    bulk.release();
    await pausing;

    expect(station.rows().filter((r) => r.status === 'synced')).toHaveLength(10);
    expect(station.rows().filter((r) => r.status === 'pending')).toHaveLength(15);
    await station.clock.advance(60 * 60_000);
    expect(station.dps.calls).toHaveLength(1);

    worker.resume();
    await worker.syncNow();
    expect(station.statuses()).toEqual(Array(25).fill('synced'));
    expect(station.dps.callsOf('bulkEnrollments')).toHaveLength(3);
  });

  it('cancels a call still waiting for the rate limit on pause; its rows go back to pending unsent', async () => {
    provisionMany(15);
    const worker = station.worker({ concurrency: 2, limit: { operations: 1, windowMs: 60_000 } });
    worker.start();
    // Two batches (10 and 5 rows) are claimed at once; one gets the only slot of the window.
    const first = await progressReached(worker, (p) => p.counts.synced > 0);
    const waiting = station.rows().filter((r) => r.status === 'syncing');
    expect(waiting).toHaveLength(15 - first.counts.synced);

    await worker.pause();
    for (const row of waiting) {
      expect(station.row(row.id)).toMatchObject({
        status: 'pending',
        lastErrorCode: 'SYNC_PAUSED',
        needsReconcile: 0,
      });
    }
    expect(station.dps.calls).toHaveLength(1);

    worker.resume();
    const done = worker.syncNow();
    await station.clock.advance(60_000);
    await done;
    expect(station.statuses()).toEqual(Array(15).fill('synced'));
    expect(station.dps.calls.map((c) => c.at - station.dps.calls[0]!.at)).toEqual([0, 60_000]);
  });

  it('stops mid-batch: waits for the call in flight, cancels the rest, loses no row', async () => {
    const [sn0, sn1] = provisionMany(2);
    // sn1 is already in DPS with other credentials: its 409 would need a GET after the bulk.
    station.dps.seed({
      registrationId: station.row(sn1!).registrationId,
      attestation: { type: 'tpm', tpm: { endorsementKey: 'AAAA' } },
    });
    const bulk = station.dps.holdNext('bulkEnrollments');
    const worker = station.worker();
    worker.start();
    await bulk.reached;

    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    expect(worker.status().state).toBe('stopped');
    bulk.release();
    await stopping;

    expect(station.row(sn0!).status).toBe('synced');
    // The GET it needed was never sent; DPS may hold something, so it is read first next time.
    expect(station.row(sn1!)).toMatchObject({ status: 'pending', needsReconcile: 1 });
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments']);
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_STOPPED' });

    worker.start();
    await worker.syncNow();
    expect(station.row(sn1!).status).toBe('conflict');
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments', 'getEnrollment']);
  });

  it('counts every call against the limit: no window holds more than N call starts', async () => {
    const ids = provisionMany(25);
    // Five rows are in DPS already (ours), so the drain needs GETs as well as bulk creates.
    for (const id of ids.slice(0, 5)) station.dps.seed(JSON.parse(station.row(id).body));
    const limit = { operations: 3, windowMs: 1_000 };
    const worker = station.worker({ limit });
    worker.start();
    for (let guard = 0; guard < 100 && worker.status().counts.synced < 25; guard++) {
      await settle(); // let the batches reach their next call before time moves
      await station.clock.advanceToNextTimer();
    }

    expect(station.statuses()).toEqual(Array(25).fill('synced'));
    const starts = station.dps.calls.map((c) => c.at);
    expect(starts).toHaveLength(3 + 5); // three bulks, five GETs after their 409s
    for (const s of starts) {
      expect(starts.filter((t) => t >= s && t < s + limit.windowMs).length).toBeLessThanOrEqual(3);
    }
    expect(worker.status().session.operations).toBe(starts.length);
  });
});
