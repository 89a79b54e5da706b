import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore, SUPERSEDED_SQL } from './outboxSyncStore.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Marks every live row as sent once, as the worker does before a device comes back. */
function markSent(): void {
  station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE status != 'superseded'`).run();
}

describe('OutboxSyncStore: earlier enrollments of a re-provisioned device', () => {
  it('lists only the sent, superseded rows of that registration ID, newest first', () => {
    const store = new OutboxSyncStore(station.db, () => station.clock.now());
    const first = station.provision('X1');
    markSent();
    const second = station.provision('X1');
    station.provision('X1'); // supersedes `second` unsent: DPS cannot hold it
    station.provision('Y1');
    markSent();
    const third = station.provision('X1');
    station.provision('Y1');
    expect(third).toBeGreaterThan(second);
    // DPS registration IDs are case-insensitive.
    expect(store.superseded('REG-X1').map((row) => row.id)).toEqual([third - 2, first]);
  });

  it('lists a superseded row that went in an outbox bundle, sent or not', () => {
    // Its receipt may not be back: the machine that synced the bundle may have created it.
    const store = new OutboxSyncStore(station.db, () => station.clock.now());
    const carried = station.provision('X1');
    station.provision('X1');
    expect(store.superseded('reg-x1')).toEqual([]);
    station.db
      .prepare(
        `INSERT INTO bundles (id, created_at, file, enrollments) VALUES ('b1', '2026-12-06', 'b', 1)`,
      )
      .run();
    station.db
      .prepare(
        `INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES ('b1', ?, ?)`,
      )
      .run(carried, 'cd'.repeat(32));
    expect(store.superseded('reg-x1').map((row) => row.id)).toEqual([carried]);
  });

  it('reads them through an index of superseded rows, not every superseded row', () => {
    // The reconciler asks this of every re-provisioned device DPS already holds, on the
    // station's event loop; superseded rows are history and only ever grow.
    const plan = station.db.prepare(`EXPLAIN QUERY PLAN ${SUPERSEDED_SQL}`).all('reg-x1') as {
      detail: string;
    }[];
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toContain('enrollments_superseded_by_registration_id');
    expect(details).not.toContain('enrollments_by_status');
    expect(details).not.toMatch(/SCAN enrollments/);
  });
});
