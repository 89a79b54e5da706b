// applyReceipt where the outbox no longer matches the receipt: rows that moved on since the
// export, and receipts that are not of this station's bundle. bundleReceive.test.ts has the rest.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore } from '../sync/outboxSyncStore.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import { exportableCount, listBundles } from './bundleList.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import {
  LATER,
  ReceiptTestKit,
  answer,
  counts,
  receipt,
  stillPending,
  synced,
} from './testing/receiptTestKit.js';

let kit: ReceiptTestKit;
// The tests read as the station they check; the kit only adds the bundle side.
let station: SyncTestStation;

/** What the bundle notes as answered for row `id`: NULL while it still carries the row. */
function answerApplied(bundleId: string, id: number): string | null {
  return station.db
    .prepare(
      'SELECT answer_applied FROM bundle_enrollments WHERE bundle_id = ? AND enrollment_id = ?',
    )
    .pluck()
    .get(bundleId, id) as string | null;
}

beforeEach(() => {
  kit = new ReceiptTestKit();
  station = kit.station;
});
afterEach(() => kit.close());

describe('applyReceipt: rows that moved on since the export', () => {
  it('flags a pending row again when the receipt reports sends the station did not see', async () => {
    const p = station.provision('P1');
    const bundle = await kit.exported();
    // The line came online for a moment: its worker sent the row, and DPS throttled it.
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const [claimed] = worker.claim(1);
    const retry = { kind: 'retry', code: 'SYNC_DPS_RETRY', detail: 'throttled' } as const;
    worker.settle([[claimed!, { ...retry, at: station.clock.now(), reconcile: false }]]);
    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 1, needsReconcile: 0 });

    kit.apply(receipt(bundle, [answer(bundle, p, 1, stillPending)]));

    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 2, needsReconcile: 1 });
  });

  it('leaves a re-provisioned row alone but counts its sends, so the worker reads DPS first', async () => {
    const old = station.provision('R1');
    const bundle = await kit.exported();
    const fresh = station.provision('R1');
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    expect(worker.superseded('reg-r1')).toMatchObject([{ id: old, attempts: 0 }]);

    const result = receipt(bundle, [answer(bundle, old, 1, { ...synced, etag: '"o"' })]);
    expect(kit.apply(result)).toMatchObject(counts({ leftAlone: 1 }));

    expect(station.row(old)).toMatchObject({ status: 'superseded', attempts: 1, etag: null });
    expect(station.row(fresh)).toMatchObject({
      status: 'pending',
      attempts: 0,
      needsReconcile: 0,
      etag: null,
    });
    expect(worker.superseded('reg-r1')).toMatchObject([{ id: old, attempts: 1 }]);
    expect(station.store.audit('enrollment.synced')).toEqual([]);

    kit.apply(result, LATER);
    expect(station.row(old).attempts).toBe(1);
  });

  it('leaves a row the worker holds alone, and keeps what the worker settled meanwhile', async () => {
    const held = station.provision('H1');
    const settled = station.provision('S1');
    const bundle = await kit.exported();
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const claimed = worker.claim(2);
    worker.settle([[claimed[1]!, { kind: 'synced', how: 'found', etag: '"own"' }]]);

    const summary = kit.apply(
      receipt(bundle, [
        answer(bundle, held, 1, { ...synced, etag: '"bundle"' }),
        answer(bundle, settled, 1, { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'x' }),
      ]),
    );

    expect(summary).toMatchObject(counts({ heldBySync: 1, alreadySettled: 1 }));
    expect(station.row(held)).toMatchObject({ status: 'syncing', etag: null });
    // Not noted as answered, nor its send: the bundle still carries the row.
    expect(answerApplied(bundle.bundleId, held)).toBeNull();
    expect(answerApplied(bundle.bundleId, settled)).toBe('failed');
    expect(kit.sendsReceived(bundle.bundleId)).toEqual([0, 1]);
    expect(station.row(settled)).toMatchObject({
      status: 'synced',
      etag: '"own"',
      lastErrorCode: null,
      syncNote: 'found in DPS',
    });
    expect(station.store.outboxCounts()).toMatchObject({ syncing: 1, synced: 1, failed: 0 });
  });

  it('applies the answer for a row the worker held once the worker hands it back pending', async () => {
    const x = station.provision('X1');
    const bundle = await kit.exported();
    // The offline line's worker tries its periodic send while the receipt is received.
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const [claimed] = worker.claim(1);
    const answered = [answer(bundle, x, 1, { ...synced, etag: '"b"' })];
    expect(kit.apply(receipt(bundle, answered))).toMatchObject(counts({ heldBySync: 1 }));
    expect(answerApplied(bundle.bundleId, x)).toBeNull();

    const offline = { kind: 'retry', code: 'SYNC_OFFLINE', detail: 'offline' } as const;
    worker.settle([[claimed!, { ...offline, at: station.clock.now() + 60_000, reconcile: true }]]);
    expect(station.row(x)).toMatchObject({ status: 'pending' });
    // Still carried by the bundle, so not due for another trip across the gap.
    expect(exportableCount(station.db, false)).toBe(0);
    expect(listBundles(station.db)).toMatchObject([{ stillPending: 1 }]);

    const again = receipt(bundle, answered, '2026-03-03T20:00:00.000Z');
    expect(kit.apply(again, LATER)).toMatchObject(counts({ synced: 1 }));
    expect(station.row(x)).toMatchObject({ status: 'synced', etag: '"b"', attempts: 2 });
    expect(answerApplied(bundle.bundleId, x)).toBe('synced');
  });
});

describe('applyReceipt: a bundle synced more than once', () => {
  it("does not undo a supervisor's requeue when a later receipt repeats the old answer", async () => {
    const a = station.provision('A1');
    const b = station.provision('B1');
    const bundle = await kit.exported();
    const conflict = {
      outcome: 'conflict',
      detail: 'DPS holds another key',
      dpsRecord: {},
    } as const;
    kit.apply(
      receipt(bundle, [answer(bundle, a, 1, conflict), answer(bundle, b, 1, stillPending)]),
    );
    // The record in DPS was removed, and the supervisor sends the row again.
    expect(requeueEnrollments(station.db, { status: 'conflict', supervisor: 'ana' })).toHaveLength(
      1,
    );

    // The bundle synced again for B; its machine still holds A's old answer.
    const later = receipt(
      bundle,
      [answer(bundle, a, 1, conflict), answer(bundle, b, 2, synced)],
      '2026-03-03T20:00:00.000Z',
    );
    expect(kit.apply(later, LATER)).toMatchObject({ synced: 1, conflict: 0, alreadySettled: 1 });
    expect(station.row(a)).toMatchObject({ status: 'pending', needsReconcile: 1 });
    expect(station.row(b)).toMatchObject({ status: 'synced' });
  });

  it('keeps the newest receipt on the bundle when an older one is applied after it', async () => {
    const a = station.provision('A1');
    const bundle = await kit.exported();
    const newer = '2026-03-03T20:00:00.000Z';
    kit.apply(receipt(bundle, [answer(bundle, a, 1, synced)], newer));
    kit.apply(receipt(bundle, [answer(bundle, a, 1, stillPending)]), LATER);
    expect(JSON.parse(kit.bundleRow(bundle.bundleId).receipt!)).toMatchObject({
      synced: 1,
      pending: 0,
      writtenAt: newer,
    });
  });
});

describe('applyReceipt: answers for rows this station settled or requeued', () => {
  const failed = { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'no' } as const;

  it('notes the answer for a row this station settled itself, so a requeued row goes again', async () => {
    const x = station.provision('X1');
    const bundle = await kit.exported();
    // The line reached DPS for a moment, and its own worker failed the row.
    station.db.prepare(`UPDATE enrollments SET status = 'failed' WHERE id = ?`).run(x);
    kit.apply(receipt(bundle, [answer(bundle, x, 1, failed)]));
    expect(requeueEnrollments(station.db, { status: 'failed', supervisor: 'ana' })).toHaveLength(1);

    expect(exportableCount(station.db, false)).toBe(1);
    kit.apply(receipt(bundle, [answer(bundle, x, 1, failed)]), LATER);
    expect(station.row(x)).toMatchObject({ status: 'pending' });
  });

  it('a requeue answers every bundle that carried the row, so no older receipt undoes it', async () => {
    const x = station.provision('X1');
    const lost = await kit.exported();
    const again = await kit.exported({ includeCarried: true });
    kit.apply(receipt(again, [answer(again, x, 1, failed)]));
    requeueEnrollments(station.db, { status: 'failed', supervisor: 'ana' });

    // The first stick turns up after all, with a receipt written before the requeue.
    expect(kit.apply(receipt(lost, [answer(lost, x, 1, failed)]), LATER)).toMatchObject({
      failed: 0,
      alreadySettled: 1,
    });
    expect(station.row(x)).toMatchObject({ status: 'pending' });
    expect(exportableCount(station.db, false)).toBe(1);
  });
});

describe('applyReceipt: receipts that do not fit', () => {
  it('refuses a receipt of a bundle this station did not export', async () => {
    const s = station.provision('S1');
    const bundle = await kit.exported();
    const stranger = { ...receipt(bundle, [answer(bundle, s, 1, synced)]), bundleId: randomUUID() };
    expect(() => kit.apply(stranger)).toThrow(expect.objectContaining({ code: 'BUNDLE_UNKNOWN' }));
    expect(station.row(s)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(station.store.audit('outbox.bundle-received')).toEqual([]);
  });

  it('applies nothing when one answer names another body', async () => {
    const s = station.provision('S1');
    const p = station.provision('P1');
    const bundle = await kit.exported();
    const rows = station.rows();
    const events = station.store.audit().length;
    const changed = { ...answer(bundle, p, 1, synced), bodySha256: 'ab'.repeat(32) };

    expect(() =>
      kit.apply(receipt(bundle, [answer(bundle, s, 2, { ...synced, etag: '"s"' }), changed])),
    ).toThrow(expect.objectContaining({ code: 'BUNDLE_CORRUPT' }));

    expect(station.rows()).toEqual(rows);
    expect(kit.sendsReceived(bundle.bundleId)).toEqual([0, 0]);
    expect(kit.bundleRow(bundle.bundleId)).toEqual({ receivedAt: null, receipt: null });
    expect(station.store.audit().length).toBe(events);
  });

  it('applies nothing when one answer is for a row the bundle did not carry', async () => {
    const s = station.provision('S1');
    const first = await kit.exported();
    const later = station.provision('L1');
    const second = await kit.exported();
    const rows = station.rows();

    // `later` went in the second bundle, with its true body hash, but not in the first.
    const stray = answer(second, later, 1, synced);
    expect(() => kit.apply(receipt(first, [answer(first, s, 1, synced), stray]))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_CORRUPT' }),
    );
    expect(station.rows()).toEqual(rows);

    // Nor is one for the right row under another registration ID.
    const renamed = { ...answer(first, s, 1, synced), registrationId: 'reg-other' };
    expect(() => kit.apply(receipt(first, [renamed]))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_CORRUPT' }),
    );
    expect(station.rows()).toEqual(rows);
    expect(kit.bundleRow(first.bundleId).receivedAt).toBeNull();
  });
});

describe('applyReceipt: what a receipt may not bring in', () => {
  it('drops a symmetric key from a conflicting DPS record, as the worker does', async () => {
    const c = station.provision('C1');
    const bundle = await kit.exported();
    const dpsRecord = {
      registrationId: 'reg-c1',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: 'c2VjcmV0LWtleS1ieXRlcw==' },
      },
    };
    kit.apply(
      receipt(bundle, [answer(bundle, c, 1, { outcome: 'conflict', detail: 'x', dpsRecord })]),
    );
    expect(station.row(c).dpsRecord).not.toContain('c2VjcmV0');
    expect(JSON.parse(station.row(c).dpsRecord!)).toMatchObject({
      attestation: { type: 'symmetricKey', symmetricKey: {} },
    });
  });
});
