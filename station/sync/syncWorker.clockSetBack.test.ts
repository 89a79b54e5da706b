// The worker against a wall clock set back while rows wait (NTP correcting a clock that ran
// ahead): the rows are sent when their wait is over, not the step later.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

describe('SyncWorker: a wall clock set back while rows wait for a retry', () => {
  it('sends a row DPS throttled when its Retry-After is over, not an hour later', async () => {
    const t0 = station.clock.now();
    station.provision('SN1');
    station.dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 10 * MINUTE });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(station.rows()[0]!.nextAttemptAt).toBe(new Date(t0 + 10 * MINUTE).toISOString());

    await station.clock.advance(MINUTE);
    station.clock.step(-HOUR);
    await station.clock.advance(9 * MINUTE - 1);
    expect(station.statuses()).toEqual(['pending']);

    await station.clock.advance(6_000);
    expect(station.statuses()).toEqual(['synced']);
    expect(worker.status().state).toBe('idle');
    expect(station.store.audit('outbox.retry-waits-shifted')).toMatchObject([
      { detail: { clockSetBackMs: HOUR, rowsShifted: 1 } },
    ]);
  });

  it("sends the rows waiting out the station's own backoff when it is over", async () => {
    station.provision('SN1');
    station.provision('SN2');
    station.dps.failNext('bulkEnrollments', { kind: 'untrusted-certificate' });
    const worker = station.worker({ backoff: { baseMs: 2 * MINUTE } });
    worker.start();
    await stateReached(worker, 'backoff');

    station.clock.step(-HOUR);
    await station.clock.advance(3 * MINUTE);
    expect(station.statuses()).toEqual(['synced', 'synced']);
  });
});
