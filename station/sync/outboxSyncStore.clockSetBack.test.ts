// The outbox's retry times against a wall clock set back or forward (NTP stepping it), on a real
// station database: waiting rows keep the wait they had left, whatever the clock shows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncErrorCode } from './syncErrors.js';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { WallClockSteps } from './syncClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

let station: SyncTestStation;
let store: OutboxSyncStore;
let t0: number;

beforeEach(() => {
  station = new SyncTestStation();
  store = new OutboxSyncStore(
    station.db,
    () => station.clock.now(),
    new WallClockSteps(station.clock),
  );
  t0 = station.clock.now();
});
afterEach(() => station.close());

/** Provisions `serial`, claims it, and sends it back to wait `waitMs` after `code`. */
function waiting(serial: string, waitMs: number, code: SyncErrorCode): number {
  const id = station.provision(serial);
  const [row] = store.claim(1);
  const at = station.clock.now() + waitMs;
  store.settle([[row!, { kind: 'retry', code, detail: 'waits', at, reconcile: false }]]);
  return id;
}

describe('OutboxSyncStore: retry times and a wall clock that steps', () => {
  it('moves the waiting rows back with a clock set back an hour, each keeping its wait', async () => {
    const dps = waiting('SN1', 10 * MINUTE, 'SYNC_DPS_RETRY');
    const own = waiting('SN2', 30_000, 'SYNC_DPS_UNTRUSTED');
    await station.clock.advance(MINUTE);
    station.clock.step(-HOUR);

    // SN2 was due before the step and still is; SN1 has nine minutes left, as before.
    expect(store.nextDueAt()).toBe(t0 + 10 * MINUTE - HOUR);
    expect(station.row(dps).nextAttemptAt).toBe(iso(t0 + 10 * MINUTE - HOUR));
    expect(station.row(own).nextAttemptAt).toBe(iso(t0 + 30_000 - HOUR));
    expect(store.claim(10).map((r) => r.id)).toEqual([own]);
    expect(station.store.audit('outbox.retry-waits-shifted')).toMatchObject([
      { actor: 'station', subject: 'outbox', detail: { clockSetBackMs: HOUR, rowsShifted: 2 } },
    ]);

    // Moved once: the next look finds no step.
    await station.clock.advance(9 * MINUTE);
    expect(store.claim(10).map((r) => r.id)).toEqual([dps]);
    expect(station.store.audit('outbox.retry-waits-shifted')).toHaveLength(1);
  });

  it('does not move a retry written on the corrected clock', async () => {
    const before = waiting('SN1', 10 * MINUTE, 'SYNC_DPS_RETRY');
    await station.clock.advance(MINUTE);
    station.clock.step(-HOUR);
    const after = waiting('SN2', 5 * MINUTE, 'SYNC_DPS_RETRY');

    expect(station.row(before).nextAttemptAt).toBe(iso(t0 + 10 * MINUTE - HOUR));
    expect(station.row(after).nextAttemptAt).toBe(iso(t0 + 6 * MINUTE - HOUR));
    expect(store.nextDueAt()).toBe(t0 + 6 * MINUTE - HOUR);
  });
});
