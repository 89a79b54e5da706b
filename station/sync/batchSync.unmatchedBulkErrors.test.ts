import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BulkResult } from '../../dps/service/serviceTypes.js';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * syncBatch through the worker, against a DPS whose bulk answer reports an item error under a
 * registration ID the batch did not send: the answer cannot say which items DPS created.
 */

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** The next bulk answer names `name` instead of the item DPS refused, as a garbled answer may. */
function misnameNextBulkError(name: string): void {
  const dps = station.dps;
  const bulk = dps.bulkEnrollments.bind(dps);
  let misnamed = false;
  dps.bulkEnrollments = async (mode, enrollments): Promise<BulkResult> => {
    const result = await bulk(mode, enrollments);
    if (misnamed) return result;
    misnamed = true;
    return { ...result, errors: result.errors.map((e) => ({ ...e, registrationId: name })) };
  };
}

describe('syncBatch, for a bulk answer that names an item the batch did not send', () => {
  it('marks no row synced, and settles them from what DPS holds when it reads them back', async () => {
    const refused = station.provision('SN1');
    const created = station.provision('SN2');
    // DPS refuses SN1's certificate and creates SN2, but its answer names neither.
    station.dps.refuseItem = (e) =>
      e.registrationId === 'reg-sn1'
        ? { errorCode: 400004, errorStatus: 'Invalid certificate.' }
        : undefined;
    misnameNextBulkError('reg-sn9');
    const worker = station.worker();
    worker.start();
    // The first batch has ended, whichever way it went.
    await Promise.race([stateReached(worker, 'backoff'), stateReached(worker, 'idle')]);

    expect(station.dps.held('reg-sn1')).toBeUndefined();
    expect(station.dps.held('reg-sn2')).toBeDefined();
    for (const id of [refused, created]) {
      expect(station.row(id)).toMatchObject({
        status: 'pending',
        needsReconcile: 1,
        lastErrorCode: 'SYNC_DPS_RETRY',
        syncedAt: null,
      });
    }
    expect(worker.status().lastError).toMatchObject({ code: 'DPS_RESPONSE_INVALID' });

    const calls = station.dps.calls.length;
    const synced = worker.syncNow();
    await station.clock.advanceToNextTimer();
    await synced;
    // Read back before anything is settled; only what DPS lacks is sent again.
    expect(station.dps.calls.slice(calls).map((c) => [c.method, c.registrationIds])).toEqual([
      ['getEnrollment', ['reg-sn1']],
      ['getEnrollment', ['reg-sn2']],
      ['bulkEnrollments', ['reg-sn1']],
    ]);
    expect(station.row(refused)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_DPS_REJECTED',
    });
    expect(station.row(created).status).toBe('synced');
    expect(station.dps.creations.get('reg-sn2')).toBe(1);
  });
});
