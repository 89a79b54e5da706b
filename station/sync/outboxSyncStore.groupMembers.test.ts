import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

describe('OutboxSyncStore: group members', () => {
  it('marks each group member once, including those committed after an earlier look', () => {
    const store = new OutboxSyncStore(station.db, () => station.clock.now());
    station.provisionGroupMember('G1', 'line7-group');
    station.provision('X1');
    expect(store.skipGroupMembers()).toBe(1);
    expect(store.skipGroupMembers()).toBe(0);

    station.provision('X2');
    expect(store.skipGroupMembers()).toBe(0);
    station.provisionGroupMember('G2', 'line7-group');
    station.provisionGroupMember('G3', 'line7-group');
    expect(store.skipGroupMembers()).toBe(2);

    expect(station.rows().map((r) => [r.registrationId, r.status])).toEqual([
      ['reg-g1', 'synced'],
      ['reg-x1', 'pending'],
      ['reg-x2', 'pending'],
      ['reg-g2', 'synced'],
      ['reg-g3', 'synced'],
    ]);
    expect(station.store.audit('enrollment.sync-skipped')).toHaveLength(3);
  });

  it('lets a running worker skip a member committed after its first drain', async () => {
    station.provision('X1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    station.provisionGroupMember('G1', 'line7-group');
    const progress = await worker.syncNow();
    expect(station.statuses()).toEqual(['synced', 'synced']);
    expect(progress.session).toMatchObject({ synced: 1, skipped: 1 });
    expect(station.dps.calls.flatMap((c) => c.registrationIds)).toEqual(['reg-x1']);
  });
});
