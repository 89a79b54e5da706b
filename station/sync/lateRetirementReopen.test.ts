/**
 * A retirement's disable that lands in DPS after the device took its registration ID back, while
 * the live row of that ID is being synced: that batch may have read DPS before the disable
 * landed ("found", synced), so the live row goes back to pending, to be read from DPS again, and
 * the batch's late settlement is dropped, as is any settlement of a claim no longer current.
 * Real SQLite file, the store's real commit, the worker's real outbox and retirement stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { RetirementStore } from './retirementStore.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;
let outbox: OutboxSyncStore;
let retirements: RetirementStore;
beforeEach(() => {
  station = new SyncTestStation();
  outbox = new OutboxSyncStore(station.db, () => station.clock.now());
  retirements = new RetirementStore(station.db, () => station.clock.now());
});
afterEach(() => station.close());

/** SN1 back under reg-sn1 after a detour through reg-v2-sn1; its live row claimed for sync. */
function liveRowBeingSynced() {
  const first = station.provision('SN1', { registrationId: 'reg-sn1' });
  station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(first);
  station.provision('SN1', { registrationId: 'reg-v2-sn1' });
  const [detour] = outbox.claim(10);
  outbox.settle([[detour!, { kind: 'synced', how: 'created' }]]);
  const back = station.provision('SN1', { registrationId: 'reg-sn1' });
  const [claimed] = outbox.claim(10);
  expect(claimed).toMatchObject({ id: back, registrationId: 'reg-sn1' });
  return claimed!;
}

describe('a late retirement of an ID whose live row is being synced', () => {
  it('reopens the row, and the batch that read DPS before the disable settles nothing', () => {
    const claimed = liveRowBeingSynced();
    expect(retirements.reopenLive('reg-sn1')).toBe(1);
    expect(station.row(claimed.id)).toMatchObject({ status: 'pending', needsReconcile: 1 });

    // The batch's "found in DPS" answer, learnt before the disable landed, comes back now.
    expect(outbox.settle([[claimed, { kind: 'synced', how: 'found' }]])).toBe(0);
    expect(station.row(claimed.id)).toMatchObject({ status: 'pending', needsReconcile: 1 });
    expect(station.store.audit('enrollment.sync-reopened')).toHaveLength(1);
  });

  it('drops a settlement of an earlier claim once the row was claimed again', () => {
    const first = liveRowBeingSynced();
    retirements.reopenLive('reg-sn1');
    const [again] = outbox.claim(10);
    expect(again).toMatchObject({ id: first.id, attempts: first.attempts + 1 });

    expect(outbox.settle([[first, { kind: 'synced', how: 'found' }]])).toBe(0);
    expect(station.row(first.id).status).toBe('syncing');
    expect(outbox.settle([[again!, { kind: 'synced', how: 'found' }]])).toBe(1);
    expect(station.row(first.id).status).toBe('synced');
  });
});
