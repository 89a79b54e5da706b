import { afterEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { nextDpsRetryAt, nextRetry } from './bundleSyncWait.js';

let station: SyncTestStation;
afterEach(() => station.close());

/** Leaves enrollment `id` pending with a retry time after `code`, as the worker records it. */
function waiting(id: number, code: string, at: string): void {
  station.db
    .prepare(
      `UPDATE enrollments SET status = 'pending', next_attempt_at = ?, last_error_code = ?
      WHERE id = ?`,
    )
    .run(at, code, id);
}

describe('the waits of bundle sync', () => {
  it('tells a wait DPS asked for from the station’s own, and dates only DPS’s for the operator', () => {
    station = new SyncTestStation();
    const offline = station.provision('SN1');
    const throttled = station.provision('SN2');
    waiting(offline, 'SYNC_OFFLINE', '2026-03-01T10:01:00.000Z');
    waiting(throttled, 'SYNC_DPS_RETRY', '2026-03-01T10:05:00.000Z');

    // The earliest wait is the station's own: waited for under its own name.
    expect(nextRetry(station.db)).toEqual({
      until: new Date('2026-03-01T10:01:00.000Z'),
      code: 'SYNC_OFFLINE',
      byDps: false,
    });
    // "Wait until after …: DPS asked to retry then" names DPS's wait, never the offline row's.
    expect(nextDpsRetryAt(station.db)).toBe(Date.parse('2026-03-01T10:05:00.000Z'));

    waiting(throttled, 'SYNC_CLOCK_WRONG', '2026-03-01T10:05:00.000Z');
    expect(nextDpsRetryAt(station.db)).toBeUndefined();
    expect(nextRetry(station.db)).toMatchObject({ byDps: false });
  });

  it('counts a row whose wait has no code as DPS’s, as sync status does', () => {
    station = new SyncTestStation();
    const id = station.provision('SN1');
    station.db
      .prepare(`UPDATE enrollments SET next_attempt_at = ?, last_error_code = NULL WHERE id = ?`)
      .run('2026-03-01T10:01:00.000Z', id);
    expect(nextRetry(station.db)).toEqual({
      until: new Date('2026-03-01T10:01:00.000Z'),
      code: undefined,
      byDps: true,
    });
    expect(nextDpsRetryAt(station.db)).toBe(Date.parse('2026-03-01T10:01:00.000Z'));
  });
});
