import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { progressReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * What the retirement of a superseded enrollment does when DPS changes the record between its
 * read and its write (a 412), told with the in-memory DPS so that the write can be held; the
 * rest runs against the emulator (syncWorker.supersededRetirement.test.ts).
 */

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const retirementOf = (id: number) =>
  station.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

describe('retiring a superseded enrollment whose DPS record changed meanwhile', () => {
  it('keeps it due after a 412, and disables it with the new etag at a later pass', async () => {
    const first = station.provision('SN1');
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');

    const put = station.dps.holdNext('createOrUpdateEnrollment');
    worker.notify();
    await put.reached;
    // Someone touches the record in DPS meanwhile (same credentials, new etag).
    const touched = station.dps.seed({ ...station.dps.held('reg-sn1')!, iotHubHostName: 'h' });
    put.release();
    await progressReached(worker, (p) => p.state === 'idle' && p.counts.synced === 1);
    expect(retirementOf(first)).toBe('due');
    expect(station.dps.held('reg-sn1')?.provisioningStatus).not.toBe('disabled');

    // Not retried at once (no loop on the record), but at the next poll.
    await station.clock.advance(5_000);
    await progressReached(worker, (p) => p.state === 'idle');
    const puts = station.dps.callsOf('createOrUpdateEnrollment');
    expect(puts.map((c) => c.ifMatch)).toEqual([expect.any(String), touched.etag]);
    expect(retirementOf(first)).toBe('disabled');
    expect(station.dps.held('reg-sn1')).toMatchObject({
      provisioningStatus: 'disabled',
      iotHubHostName: 'h',
    });
    expect(station.store.audit('enrollment.retired')).toHaveLength(1);
  });
});
