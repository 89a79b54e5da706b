import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * syncBatch through the worker, against a DPS that answers a bulk create with 200 but refuses
 * its items one by one with 429 or 5xx: when it refuses every item, the worker must slow down as
 * for a whole-call 429/5xx, not count the batch a success and launch the next at once.
 */

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const provisionMany = (n: number) =>
  Array.from({ length: n }, (_, i) => station.provision(`SN${i}`));

/** DPS refuses each item whose registration ID `refuses` names, with `errorCode`. */
function refuseItems(errorCode: number, refuses: (registrationId: string) => boolean): void {
  station.dps.refuseItem = (e) =>
    refuses(e.registrationId) ? { errorCode, errorStatus: 'Too many requests' } : undefined;
}

describe('syncBatch, for a bulk create whose items DPS throttles or fails', () => {
  it('holds the worker and reports DPS_THROTTLED when every item is answered 429', async () => {
    const ids = provisionMany(3);
    refuseItems(429001, () => true);
    const t0 = station.clock.now();
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');

    const status = worker.status();
    expect(status).toMatchObject({ lastError: { code: 'DPS_THROTTLED' }, heldByDps: true });
    const heldUntil = Date.parse(status.heldUntil!);
    expect(heldUntil).toBeGreaterThan(t0);
    for (const id of ids) {
      expect(station.row(id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: status.heldUntil,
        lastErrorCode: 'SYNC_DPS_RETRY',
        // A 429 applied nothing: no need to read DPS back.
        needsReconcile: 0,
      });
    }
    // No call starts before the hold ends.
    await station.clock.advance(heldUntil - t0 - 1);
    expect(station.dps.calls).toHaveLength(1);

    // DPS takes them again: the next batch creates them and the error is over.
    refuseItems(429001, () => false);
    await station.clock.advance(1);
    await stateReached(worker, 'idle');
    expect(station.statuses()).toEqual(Array(3).fill('synced'));
    expect(worker.status().lastError).toBeUndefined();
  });

  it('holds the worker and reports DPS_SERVER_ERROR when every item is answered 429 or 503', async () => {
    const ids = provisionMany(2);
    station.dps.refuseItem = (e) =>
      e.registrationId === 'reg-sn0'
        ? { errorCode: 429001, errorStatus: 'Too many requests' }
        : { errorCode: 503000, errorStatus: 'Service unavailable' };
    const t0 = station.clock.now();
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');

    const status = worker.status();
    expect(status).toMatchObject({ lastError: { code: 'DPS_SERVER_ERROR' }, heldByDps: true });
    expect(Date.parse(status.heldUntil!)).toBeGreaterThan(t0);
    // DPS may have applied the 503 item; the 429 one it did not.
    expect(station.row(ids[0]!)).toMatchObject({ status: 'pending', needsReconcile: 0 });
    expect(station.row(ids[1]!)).toMatchObject({ status: 'pending', needsReconcile: 1 });
    expect(station.dps.calls).toHaveLength(1);
  });

  it('keeps going when only some items are throttled: those rows retry on their own', async () => {
    const [throttled, created] = provisionMany(2);
    refuseItems(429001, (id) => id === 'reg-sn0');
    const worker = station.worker();
    worker.start();
    // Waiting for the throttled row's own retry time.
    await stateReached(worker, 'backoff');

    expect(worker.status().lastError).toBeUndefined();
    expect(worker.status().heldUntil).toBeUndefined();
    expect(station.row(created!).status).toBe('synced');
    expect(station.row(throttled!)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_DPS_RETRY',
      needsReconcile: 0,
    });
  });

  it('retries alone an item refused 5xx when it was resent by itself after a whole-call 400', async () => {
    provisionMany(3);
    station.dps.failNext('bulkEnrollments', { kind: 'bad-request' });
    refuseItems(503000, (id) => id === 'reg-sn0');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    // Its neighbours went on one by one, and the worker holds nothing for that one row.
    expect(station.dps.callsOf('bulkEnrollments').map((c) => c.registrationIds)).toEqual([
      ['reg-sn0', 'reg-sn1', 'reg-sn2'],
      ['reg-sn0'],
      ['reg-sn1'],
      ['reg-sn2'],
    ]);
    expect(station.statuses()).toEqual(['pending', 'synced', 'synced']);
    expect(station.rows()[0]).toMatchObject({ lastErrorCode: 'SYNC_DPS_RETRY' });
    expect(worker.status().lastError).toBeUndefined();
  });
});
