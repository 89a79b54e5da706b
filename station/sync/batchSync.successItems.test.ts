import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BulkResult } from '../../dps/service/serviceTypes.js';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * syncBatch through the worker, against a DPS whose bulk answer lists every item: the created
 * ones with errorCode 200 "Succeeded", as the Azure SDKs document the answer, beside the refused.
 */

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Every bulk answer from now on names the items DPS took too, as 200 "Succeeded". */
function listSuccessfulItems(): void {
  const dps = station.dps;
  const bulk = dps.bulkEnrollments.bind(dps);
  dps.bulkEnrollments = async (mode, enrollments): Promise<BulkResult> => {
    const result = await bulk(mode, enrollments);
    const refused = new Set(result.errors.map((e) => e.registrationId));
    const taken = enrollments
      .filter((e) => !refused.has(e.registrationId))
      .map((e) => ({ registrationId: e.registrationId, errorCode: 200, errorStatus: 'Succeeded' }));
    return { ...result, errors: [...taken, ...result.errors] };
  };
}

describe('syncBatch, for a bulk answer that lists the created items as well', () => {
  it('marks the created items synced and only the refused one failed', async () => {
    const refused = station.provision('SN1');
    const created = [station.provision('SN2'), station.provision('SN3')];
    station.dps.refuseItem = (e) =>
      e.registrationId === 'reg-sn1'
        ? { errorCode: 400004, errorStatus: 'Invalid certificate.' }
        : undefined;
    listSuccessfulItems();
    const worker = station.worker();
    worker.start();
    await Promise.race([stateReached(worker, 'backoff'), stateReached(worker, 'idle')]);

    for (const id of created) expect(station.row(id)).toMatchObject({ status: 'synced' });
    expect(station.dps.held('reg-sn2')).toBeDefined();
    expect(station.dps.held('reg-sn3')).toBeDefined();
    expect(station.row(refused)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_DPS_REJECTED',
    });
  });
});
