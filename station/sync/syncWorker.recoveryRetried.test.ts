/**
 * Rows a crash left `syncing` are put back when the worker takes the sync lease. When the
 * database refuses that (a full disk, a lock held past the busy timeout), the worker must ask
 * again at its next look, not only when it next takes the lease: otherwise those rows stay
 * `syncing` for good while newer ones sync. Real parts: a real station database file made full
 * with SQLite's own page limit, so the refusal is SQLite's SQLITE_FULL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { progressReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Caps the database at its present size: a write that needs one more page fails SQLITE_FULL. */
function fillTheDisk(): () => void {
  const pages = station.db.pragma('page_count', { simple: true }) as number;
  station.db.pragma(`max_page_count = ${pages}`);
  return () => void station.db.pragma(`max_page_count = ${pages * 100}`);
}

describe('SyncWorker: recovering rows a crash left syncing', () => {
  it('asks again at its next look when the database refused the first recovery', async () => {
    for (let i = 0; i < 30; i++) station.provision(`SN${i}`);
    // As a crashed process left them: claimed and (maybe) sent, never marked.
    station.db.prepare(`UPDATE enrollments SET status = 'syncing', attempts = 1`).run();
    const freeTheDisk = fillTheDisk();

    const worker = station.worker();
    worker.start();
    // The lease was taken, the recovery refused: reported, nothing claimed, nothing sent.
    expect(station.db.prepare(`SELECT holder FROM sync_lease`).get()).toBeDefined();
    expect(worker.status().lastError).toMatchObject({
      code: 'SYNC_STORE_FAILED',
      detail: expect.stringContaining('disk is full'),
    });
    expect(station.statuses()).toEqual(Array(30).fill('syncing'));
    expect(station.dps.calls).toHaveLength(0);

    freeTheDisk();
    await station.clock.advanceToNextTimer();
    // The look after the backoff: once it is over, no row is left `syncing`.
    const done = await progressReached(worker, (p) => p.state === 'idle');

    expect(station.statuses()).toEqual(Array(30).fill('synced'));
    expect(station.store.audit('enrollment.sync-interrupted')).toHaveLength(30);
    // DPS was read back before anything was sent again: each row was maybe applied.
    expect(station.dps.callsOf('getEnrollment')).toHaveLength(30);
    expect(done.lastError).toBeUndefined();
  });
});
