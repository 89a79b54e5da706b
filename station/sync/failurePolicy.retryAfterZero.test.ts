import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendJson } from '../../dps/testing/loopbackHttpsServer.js';
import { startServiceFixture, type ServiceFixture } from '../../dps/testing/serviceFixture.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * The sync worker, on the real DPS client over HTTPS, against a DPS (or a proxy before it) that
 * keeps refusing with `Retry-After: 0`. The emulator's throttles always ask for a second, so a
 * loopback server stands in for that DPS.
 */

let fx: ServiceFixture;
let station: SyncTestStation;

beforeEach(async () => {
  fx = await startServiceFixture();
  station = new SyncTestStation();
});
afterEach(async () => {
  await station.close();
  await fx.close();
});

/** How much of the station's clock the test watches, from the first call. */
const WINDOW_MS = 10_000;
const random = () => 0.5;

/** When the worker's default backoff lets calls start within WINDOW_MS, from the first at 0. */
function callTimesTheBackoffAllows(): number[] {
  const times = [0];
  for (let failures = 1; ; failures++) {
    const at = times[times.length - 1]! + backoffDelay(failures, DEFAULT_BACKOFF, random);
    if (at >= WINDOW_MS) return times;
    times.push(at);
  }
}

describe('judgeFailure, for a DPS that asks for no wait', () => {
  it('keeps its own backoff between calls when DPS answers 429 with Retry-After: 0', async () => {
    station.provision('SN1');
    const t0 = station.clock.now();
    // When each call reached DPS by the station's clock, which only the test moves.
    const calledAt: number[] = [];
    fx.server.handle((_req, res) => {
      calledAt.push(station.clock.now() - t0);
      sendJson(
        res,
        429,
        {
          errorCode: 429001,
          trackingId: 'throttled',
          message: 'Too many requests',
          timestampUtc: '2026-11-22T10:00:00.0000000Z',
        },
        { 'retry-after': '0' },
      );
    });
    const times = callTimesTheBackoffAllows();
    const allowed = times.length;
    expect(allowed).toBeGreaterThan(1);
    // One call more than the backoff allows is the defect itself: no need to watch any longer.
    const tooMany = fx.server.nextRequest(allowed).then(() => 'too many' as const);
    const worker = station.worker({ dps: fx.newClient(), random });
    worker.start();
    for (;;) {
      const seen = await Promise.race([
        stateReached(worker, 'backoff').then(() => 'held' as const),
        tooMany,
      ]);
      if (seen === 'too many') break;
      const next = station.clock.nextTimerAt;
      if (next === undefined || next >= t0 + WINDOW_MS) break;
      await station.clock.advance(next - station.clock.now());
    }
    await worker.stop();

    expect(calledAt).toEqual(times);
    expect(fx.server.requests.every((r) => r.method === 'POST')).toBe(true);
    expect(station.rows()[0]).toMatchObject({ status: 'pending', lastErrorCode: 'SYNC_DPS_RETRY' });
  });
});
