// applyReceipt on an outbox as the export left it: its answers, and receipts applied again or
// later. Rows that moved on and receipts that do not fit are in bundleReceive.moved.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import {
  LATER,
  RECEIPT_WRITTEN,
  RECEIVED,
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

beforeEach(() => {
  kit = new ReceiptTestKit();
  station = kit.station;
});
afterEach(() => kit.close());

describe('applyReceipt: answers', () => {
  it('settles synced, failed and conflict rows as the worker would, and keeps pending ones', async () => {
    const s = station.provision('S1');
    const f = station.provision('F1');
    const c = station.provision('C1');
    const p = station.provision('P1');
    // What earlier attempts of this station's own worker left on the rows (a requeued
    // conflict keeps DPS's record): an answer replaces it as the worker's settlement would.
    station.db
      .prepare(
        `UPDATE enrollments SET attempts = 1, last_error_code = 'SYNC_OFFLINE',
          last_error = 'no route', next_attempt_at = '2026-03-01T11:00:00.000Z',
          dps_error = '{"status":503}', dps_record = '{"registrationId":"x"}'
        WHERE id IN (?, ?)`,
      )
      .run(s, c);
    const bundle = await kit.exported();
    const dpsError = { status: 400, errorCode: 400004, message: 'bad certificate' };
    const dpsRecord = {
      registrationId: 'reg-c1',
      attestation: { type: 'tpm' },
      etag: '"c-9"',
    };

    const summary = kit.apply(
      receipt(bundle, [
        answer(bundle, s, 1, { ...synced, etag: '"s-1"' }),
        answer(bundle, f, 1, {
          outcome: 'failed',
          code: 'SYNC_DPS_REJECTED',
          detail: 'no',
          dpsError,
        }),
        answer(bundle, c, 2, { outcome: 'conflict', detail: 'DPS holds a TPM', dpsRecord }),
        answer(bundle, p, 3, stillPending),
      ]),
    );

    expect(summary).toEqual({
      bundleId: bundle.bundleId,
      ...counts({ synced: 1, failed: 1, conflict: 1, stillPending: 1 }),
    });
    expect(station.row(s)).toMatchObject({
      status: 'synced',
      etag: '"s-1"',
      attempts: 2,
      syncedAt: RECEIVED.toISOString(),
      nextAttemptAt: null,
      needsReconcile: 0,
      lastErrorCode: null,
      lastError: null,
      dpsError: null,
      dpsRecord: null,
      syncNote: `synced through bundle ${bundle.bundleId.slice(0, 8)} (created in DPS)`,
    });
    expect(station.row(f)).toMatchObject({
      status: 'failed',
      attempts: 1,
      syncedAt: null,
      needsReconcile: 0,
      lastErrorCode: 'SYNC_DPS_REJECTED',
      lastError: 'no',
    });
    expect(JSON.parse(station.row(f).dpsError!)).toEqual(dpsError);
    expect(station.row(c)).toMatchObject({
      status: 'conflict',
      etag: '"c-9"',
      attempts: 3,
      nextAttemptAt: null,
      needsReconcile: 0,
      lastErrorCode: 'SYNC_CONFLICT',
      lastError: 'DPS holds a TPM',
      dpsError: null,
    });
    expect(JSON.parse(station.row(c).dpsRecord!)).toEqual(dpsRecord);
    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 3, needsReconcile: 1 });
    expect(station.store.outboxCounts()).toEqual({
      pending: 1,
      syncing: 0,
      synced: 1,
      failed: 1,
      conflict: 1,
    });
  });

  it('notes how DPS came to hold it', async () => {
    const found = station.provision('A1');
    const replaced = station.provision('A2');
    const group = station.provision('A3');
    const unconfirmed = station.provision('A4');
    const bundle = await kit.exported();
    const confirmedNote = 'confirmed by enrollment group g1 in DPS (its primary key)';
    kit.apply(
      receipt(bundle, [
        answer(bundle, found, 1, { outcome: 'synced', how: 'found' }),
        answer(bundle, replaced, 1, { outcome: 'synced', how: 'replaced', etag: '"r"' }),
        answer(bundle, group, 1, {
          outcome: 'synced',
          how: 'confirmed-by-group',
          note: confirmedNote,
        }),
        // An earlier version's answer for a member, never asked of DPS: not an answer.
        answer(bundle, unconfirmed, 0, { outcome: 'synced', how: 'group', note: 'g1 covers it' }),
      ]),
    );
    const tag = `bundle ${bundle.bundleId.slice(0, 8)}`;
    expect(station.row(found)).toMatchObject({
      etag: null,
      syncNote: `synced through ${tag} (found in DPS)`,
    });
    expect(station.row(replaced).syncNote).toBe(`synced through ${tag} (replaced in DPS)`);
    expect(station.row(group)).toMatchObject({
      status: 'synced',
      syncNote: `synced through ${tag} (${confirmedNote})`,
    });
    expect(station.row(unconfirmed)).toMatchObject({ status: 'pending', syncNote: null });
  });

  it('records the receipt on the bundle and in the audit trail', async () => {
    const s = station.provision('S1');
    const p = station.provision('P1');
    const bundle = await kit.exported();
    expect(kit.bundleRow(bundle.bundleId)).toEqual({ receivedAt: null, receipt: null });

    kit.apply(receipt(bundle, [answer(bundle, s, 1, synced), answer(bundle, p, 1, stillPending)]));

    const expected = counts({ synced: 1, stillPending: 1 });
    const row = kit.bundleRow(bundle.bundleId);
    expect(row.receivedAt).toBe(RECEIVED.toISOString());
    // The bundle keeps what DPS answered; the audit event what this apply did.
    expect(JSON.parse(row.receipt!)).toEqual({
      ...{ synced: 1, failed: 0, conflict: 0, pending: 1 },
      writtenAt: RECEIPT_WRITTEN,
    });
    expect(station.store.audit('outbox.bundle-received')).toEqual([
      {
        id: expect.any(Number),
        at: RECEIVED.toISOString(),
        actor: 'supervisor:ben',
        kind: 'outbox.bundle-received',
        subject: bundle.bundleId,
        detail: {
          ...expected,
          dpsHost: 'line.azure-devices-provisioning.net',
          receiptWrittenAt: '2026-03-02T20:00:00.000Z',
          syncedOn: null,
        },
      },
    ]);
    expect(station.store.audit('enrollment.synced')).toMatchObject([
      {
        subject: 'reg-s1',
        actor: 'supervisor:ben',
        detail: { enrollmentId: s, bundleId: bundle.bundleId, how: 'created' },
      },
    ]);
  });
  it('lets go, for the next export, group members no run of this bundle can confirm', async () => {
    const old = station.provision('G1');
    const noKey = station.provision('G2');
    const offline = station.provision('P1');
    const bundle = await kit.exported();
    const answers = receipt(bundle, [
      // An earlier version's syncing machine: "synced", DPS never asked.
      answer(bundle, old, 0, { outcome: 'synced', how: 'group', note: 'covered by it' }),
      // This version, on a bundle carrying no fingerprint of the group's key.
      answer(bundle, noKey, 0, { outcome: 'pending', code: 'SYNC_GROUP_KEY_UNAVAILABLE' }),
      answer(bundle, offline, 1, stillPending),
    ]);
    const summary = kit.apply(answers);
    expect(summary).toMatchObject(counts({ exportAgain: 2, stillPending: 1 }));
    for (const id of [old, noKey, offline]) {
      expect(station.row(id)).toMatchObject({ status: 'pending', syncNote: null });
    }
    // The next export takes them without --include-carried; the unanswered one still travels.
    const next = await kit.exported();
    expect(next.enrollments.map((e) => e.id)).toEqual([old, noKey]);
    // The same receipt again frees nothing twice.
    expect(kit.apply(answers, LATER)).toEqual({
      bundleId: bundle.bundleId,
      ...counts({ alreadySettled: 2, stillPending: 1 }),
    });
  });
});

describe('applyReceipt: applied again, or later', () => {
  it('changes nothing when the same receipt is applied twice', async () => {
    const s = station.provision('S1');
    const f = station.provision('F1');
    const p = station.provision('P1');
    const bundle = await kit.exported();
    const twice = receipt(bundle, [
      answer(bundle, s, 1, synced),
      answer(bundle, f, 2, { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'no' }),
      answer(bundle, p, 3, stillPending),
    ]);
    kit.apply(twice);
    const rows = station.rows();
    const events = station.store.audit().length;

    const again = kit.apply(twice, LATER);

    expect(again).toEqual({
      bundleId: bundle.bundleId,
      ...counts({ alreadySettled: 2, stillPending: 1 }),
    });
    expect(station.rows()).toEqual(rows);
    expect(station.row(p).attempts).toBe(3);
    expect(kit.sendsReceived(bundle.bundleId)).toEqual([1, 2, 3]);
    // Only the receipt event is new; no row event is written twice.
    expect(station.store.audit().length).toBe(events + 1);
    const row = kit.bundleRow(bundle.bundleId);
    expect(row.receivedAt).toBe(LATER.toISOString());
    expect(JSON.parse(row.receipt!)).toEqual({
      ...{ synced: 1, failed: 1, conflict: 0, pending: 1 },
      writtenAt: RECEIPT_WRITTEN,
    });
  });

  it('adds only the sends a later receipt reports beyond the earlier one', async () => {
    const p = station.provision('P1');
    const q = station.provision('Q1');
    station.db.prepare(`UPDATE enrollments SET attempts = 4 WHERE id = ?`).run(p);
    const bundle = await kit.exported();

    kit.apply(
      receipt(bundle, [answer(bundle, p, 2, stillPending), answer(bundle, q, 1, stillPending)]),
    );
    expect(station.row(p).attempts).toBe(6);
    expect(station.row(q).attempts).toBe(1);

    const later = receipt(bundle, [
      answer(bundle, p, 3, synced),
      answer(bundle, q, 1, stillPending),
    ]);
    expect(kit.apply(later, LATER)).toMatchObject({ synced: 1, stillPending: 1 });
    expect(station.row(p)).toMatchObject({ status: 'synced', attempts: 7 });
    expect(station.row(q)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(kit.sendsReceived(bundle.bundleId)).toEqual([3, 1]);

    // An earlier receipt applied once more, out of order: its totals are below what is known,
    // and take no sends away.
    const failedEarlier = { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'no' } as const;
    kit.apply(
      receipt(bundle, [answer(bundle, p, 2, stillPending), answer(bundle, q, 0, failedEarlier)]),
    );
    expect(station.row(p)).toMatchObject({ status: 'synced', attempts: 7 });
    expect(station.row(q)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(kit.sendsReceived(bundle.bundleId)).toEqual([3, 1]);
  });
});
