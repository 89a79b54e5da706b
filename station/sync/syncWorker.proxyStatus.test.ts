/**
 * A proxy or gateway between the station and DPS that answers every call itself (407, asking
 * for a sign-in) says nothing about the enrollments: the worker must hold and report it, not
 * split the batches and fail every row as refused by DPS. Real parts: the DPS client over HTTPS
 * against a loopback server in the proxy's place, and a real station database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServiceFixture, type ServiceFixture } from '../../dps/testing/serviceFixture.js';
import { progressReached, SyncTestStation } from './testing/syncTestStation.js';

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

const ROWS = 30;
/** Three bulk calls of MAX_BULK_ITEMS, one per lane, went out before the first answer. */
const FIRST_CALLS = 3;

describe('SyncWorker, behind a proxy that answers instead of DPS', () => {
  it('holds and reports a 407 to every call; no row ends failed', async () => {
    for (let i = 0; i < ROWS; i++) station.provision(`SN${i}`);
    fx.server.handle((_req, res) => {
      const page = '<html><body>Proxy Authentication Required</body></html>';
      res.writeHead(407, {
        'proxy-authenticate': 'Basic realm="corporate proxy"',
        'content-type': 'text/html',
        'content-length': Buffer.byteLength(page),
      });
      res.end(page);
    });
    const worker = station.worker({ dps: fx.newClient() });
    worker.start();
    // Every call in flight has ended: the worker is held, or (the defect) idle with nothing due.
    const settled = await progressReached(
      worker,
      (p) => p.state === 'backoff' || p.state === 'idle',
    );

    expect(station.statuses()).toEqual(Array(ROWS).fill('pending'));
    expect(settled).toMatchObject({
      state: 'backoff',
      counts: { pending: ROWS, failed: 0 },
      lastError: {
        code: 'DPS_UNEXPECTED_STATUS',
        detail: expect.stringContaining('HTTP 407'),
      },
      heldUntil: expect.any(String),
    });
    for (const row of station.rows()) {
      expect(row).toMatchObject({ lastErrorCode: 'SYNC_DPS_RETRY', needsReconcile: 0 });
    }
    expect(fx.server.requests).toHaveLength(FIRST_CALLS);

    // Held: one probe at the end of the hold, which is refused the same way and held again.
    await station.clock.advanceToNextTimer();
    await progressReached(
      worker,
      (p) => p.state === 'backoff' && p.session.operations > FIRST_CALLS,
    );
    expect(fx.server.requests).toHaveLength(FIRST_CALLS + 1);
    expect(station.statuses()).toEqual(Array(ROWS).fill('pending'));
  });
});
