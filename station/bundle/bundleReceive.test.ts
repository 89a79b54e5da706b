import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { OutboxSyncStore } from '../sync/outboxSyncStore.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle } from './bundleExport.js';
import {
  RECEIPT_PAYLOAD_FORMAT,
  bundlePayloadSchema,
  checkPayload,
  receiptPayloadSchema,
  type BundleEnrollment,
  type BundlePayload,
  type ReceiptPayload,
  type ReceiptResult,
} from './bundlePayload.js';
import { applyReceipt, type ReceiveSummary } from './bundleReceive.js';
import { openPayload } from './bundleSeal.js';

// Cheap scrypt and one salt per session: these tests are about the outbox, not the passphrase.
const bundleWrapper = new PassphraseKeyWrapper('bundle passphrase', {
  scrypt: { N: 1024 },
  session: true,
});
const EXPORTED = new Date('2026-03-02T08:00:00.000Z');
const RECEIVED = new Date('2026-03-03T09:00:00.000Z');
const LATER = new Date('2026-03-04T10:00:00.000Z');

let station: SyncTestStation;
let exports = 0;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Exports the pending rows as the line does and reads the bundle back. */
async function exported(): Promise<BundlePayload> {
  const file = join(station.dir, `outbox-${++exports}.bundle`);
  await exportBundle({
    db: station.db,
    file,
    wrapper: bundleWrapper,
    caSecrets: () => Promise.resolve(station.openSecret),
    actor: 'supervisor:ana',
    dataDir: station.dir,
    now: () => EXPORTED,
  });
  const { payload } = await openPayload(readFileSync(file, 'utf8'), 'bundle', bundleWrapper);
  return checkPayload(bundlePayloadSchema, payload, 'the bundle read back');
}

/** The carried entry (enrollment or history) of outbox row `id`. */
function entryOf(bundle: BundlePayload, id: number): BundleEnrollment {
  const entry = [...bundle.enrollments, ...bundle.history].find((e) => e.id === id);
  if (!entry) throw new Error(`bundle does not carry ${id}`);
  return entry;
}

type Answer =
  | {
      outcome: 'synced';
      how: 'created' | 'found' | 'replaced' | 'group';
      etag?: string;
      note?: string;
    }
  | { outcome: 'failed'; code: string; detail: string; dpsError?: Record<string, unknown> }
  | { outcome: 'conflict'; detail: string; dpsRecord: Record<string, unknown> }
  | { outcome: 'pending'; code?: string };

/** DPS's answer for row `id` as the syncing machine would write it, naming what was carried. */
function answer(bundle: BundlePayload, id: number, attempts: number, a: Answer): ReceiptResult {
  const { registrationId, bodySha256 } = entryOf(bundle, id);
  return { id, registrationId, bodySha256, attempts, ...a } as ReceiptResult;
}

/** A receipt as it comes out of its seal: validated like the real one. */
function receipt(bundle: BundlePayload, results: ReceiptResult[]): ReceiptPayload {
  return checkPayload(
    receiptPayloadSchema,
    {
      format: RECEIPT_PAYLOAD_FORMAT,
      version: 1,
      bundleId: bundle.bundleId,
      writtenAt: '2026-03-02T20:00:00.000Z',
      dpsHost: 'line.azure-devices-provisioning.net',
      results,
    },
    'the test receipt',
  );
}

function apply(payload: ReceiptPayload, at = RECEIVED): ReceiveSummary {
  return applyReceipt(station.db, payload, 'supervisor:ben', () => at);
}

const synced = { outcome: 'synced', how: 'created' } as const;
const stillPending = { outcome: 'pending', code: 'SYNC_OFFLINE' } as const;

function counts(over: Partial<ReceiveSummary>): Omit<ReceiveSummary, 'bundleId'> {
  return {
    synced: 0,
    failed: 0,
    conflict: 0,
    stillPending: 0,
    alreadySettled: 0,
    leftAlone: 0,
    ...over,
  };
}

function bundleRow(id: string): { receivedAt: string | null; receipt: string | null } {
  return station.db
    .prepare(`SELECT received_at AS receivedAt, receipt FROM bundles WHERE id = ?`)
    .get(id) as { receivedAt: string | null; receipt: string | null };
}

function sendsReceived(bundleId: string): number[] {
  return station.db
    .prepare(
      `SELECT sends_received FROM bundle_enrollments WHERE bundle_id = ? ORDER BY enrollment_id`,
    )
    .pluck()
    .all(bundleId) as number[];
}

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
    const bundle = await exported();
    const dpsError = { status: 400, errorCode: 400004, message: 'bad certificate' };
    const dpsRecord = {
      registrationId: 'reg-c1',
      attestation: { type: 'tpm' },
      etag: '"c-9"',
    };

    const summary = apply(
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
    const bundle = await exported();
    apply(
      receipt(bundle, [
        answer(bundle, found, 1, { outcome: 'synced', how: 'found' }),
        answer(bundle, replaced, 1, { outcome: 'synced', how: 'replaced', etag: '"r"' }),
        answer(bundle, group, 0, { outcome: 'synced', how: 'group', note: 'group g1 covers it' }),
      ]),
    );
    const tag = `bundle ${bundle.bundleId.slice(0, 8)}`;
    expect(station.row(found)).toMatchObject({
      etag: null,
      syncNote: `synced through ${tag} (found in DPS)`,
    });
    expect(station.row(replaced).syncNote).toBe(`synced through ${tag} (replaced in DPS)`);
    expect(station.row(group)).toMatchObject({
      attempts: 0,
      syncNote: `synced through ${tag} (group g1 covers it)`,
    });
  });

  it('records the receipt on the bundle and in the audit trail', async () => {
    const s = station.provision('S1');
    const p = station.provision('P1');
    const bundle = await exported();
    expect(bundleRow(bundle.bundleId)).toEqual({ receivedAt: null, receipt: null });

    apply(receipt(bundle, [answer(bundle, s, 1, synced), answer(bundle, p, 1, stillPending)]));

    const expected = counts({ synced: 1, stillPending: 1 });
    const row = bundleRow(bundle.bundleId);
    expect(row.receivedAt).toBe(RECEIVED.toISOString());
    // The bundle keeps what DPS answered; the audit event what this apply did.
    expect(JSON.parse(row.receipt!)).toEqual({ synced: 1, failed: 0, conflict: 0, pending: 1 });
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
});

describe('applyReceipt: applied again, or later', () => {
  it('changes nothing when the same receipt is applied twice', async () => {
    const s = station.provision('S1');
    const f = station.provision('F1');
    const p = station.provision('P1');
    const bundle = await exported();
    const twice = receipt(bundle, [
      answer(bundle, s, 1, synced),
      answer(bundle, f, 2, { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'no' }),
      answer(bundle, p, 3, stillPending),
    ]);
    apply(twice);
    const rows = station.rows();
    const events = station.store.audit().length;

    const again = apply(twice, LATER);

    expect(again).toEqual({
      bundleId: bundle.bundleId,
      ...counts({ alreadySettled: 2, stillPending: 1 }),
    });
    expect(station.rows()).toEqual(rows);
    expect(station.row(p).attempts).toBe(3);
    expect(sendsReceived(bundle.bundleId)).toEqual([1, 2, 3]);
    // Only the receipt event is new; no row event is written twice.
    expect(station.store.audit().length).toBe(events + 1);
    const row = bundleRow(bundle.bundleId);
    expect(row.receivedAt).toBe(LATER.toISOString());
    expect(JSON.parse(row.receipt!)).toEqual({ synced: 1, failed: 1, conflict: 0, pending: 1 });
  });

  it('adds only the sends a later receipt reports beyond the earlier one', async () => {
    const p = station.provision('P1');
    const q = station.provision('Q1');
    station.db.prepare(`UPDATE enrollments SET attempts = 4 WHERE id = ?`).run(p);
    const bundle = await exported();

    apply(
      receipt(bundle, [answer(bundle, p, 2, stillPending), answer(bundle, q, 1, stillPending)]),
    );
    expect(station.row(p).attempts).toBe(6);
    expect(station.row(q).attempts).toBe(1);

    const later = receipt(bundle, [
      answer(bundle, p, 3, synced),
      answer(bundle, q, 1, stillPending),
    ]);
    expect(apply(later, LATER)).toMatchObject({ synced: 1, stillPending: 1 });
    expect(station.row(p)).toMatchObject({ status: 'synced', attempts: 7 });
    expect(station.row(q)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(sendsReceived(bundle.bundleId)).toEqual([3, 1]);

    // An earlier receipt applied once more, out of order: its totals are below what is known,
    // and take no sends away.
    const failedEarlier = { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'no' } as const;
    apply(
      receipt(bundle, [answer(bundle, p, 2, stillPending), answer(bundle, q, 0, failedEarlier)]),
    );
    expect(station.row(p)).toMatchObject({ status: 'synced', attempts: 7 });
    expect(station.row(q)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(sendsReceived(bundle.bundleId)).toEqual([3, 1]);
  });
});

describe('applyReceipt: rows that moved on since the export', () => {
  it('flags a pending row again when the receipt reports sends the station did not see', async () => {
    const p = station.provision('P1');
    const bundle = await exported();
    // The line came online for a moment: its worker sent the row, and DPS throttled it.
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const [claimed] = worker.claim(1);
    const retry = { kind: 'retry', code: 'SYNC_DPS_RETRY', detail: 'throttled' } as const;
    worker.settle([[claimed!, { ...retry, at: station.clock.now(), reconcile: false }]]);
    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 1, needsReconcile: 0 });

    apply(receipt(bundle, [answer(bundle, p, 1, stillPending)]));

    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 2, needsReconcile: 1 });
  });

  it('leaves a re-provisioned row alone but counts its sends, so the worker reads DPS first', async () => {
    const old = station.provision('R1');
    const bundle = await exported();
    const fresh = station.provision('R1');
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    expect(worker.superseded('reg-r1')).toMatchObject([{ id: old, attempts: 0 }]);

    const result = receipt(bundle, [answer(bundle, old, 1, { ...synced, etag: '"o"' })]);
    expect(apply(result)).toMatchObject(counts({ leftAlone: 1 }));

    expect(station.row(old)).toMatchObject({ status: 'superseded', attempts: 1, etag: null });
    expect(station.row(fresh)).toMatchObject({
      status: 'pending',
      attempts: 0,
      needsReconcile: 0,
      etag: null,
    });
    expect(worker.superseded('reg-r1')).toMatchObject([{ id: old, attempts: 1 }]);
    expect(station.store.audit('enrollment.synced')).toEqual([]);

    apply(result, LATER);
    expect(station.row(old).attempts).toBe(1);
  });

  it('leaves a row the worker holds alone, and keeps what the worker settled meanwhile', async () => {
    const held = station.provision('H1');
    const settled = station.provision('S1');
    const bundle = await exported();
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const claimed = worker.claim(2);
    worker.settle([[claimed[1]!, { kind: 'synced', how: 'found', etag: '"own"' }]]);

    const summary = apply(
      receipt(bundle, [
        answer(bundle, held, 1, { ...synced, etag: '"bundle"' }),
        answer(bundle, settled, 1, { outcome: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'x' }),
      ]),
    );

    expect(summary).toMatchObject(counts({ leftAlone: 1, alreadySettled: 1 }));
    expect(station.row(held)).toMatchObject({ status: 'syncing', etag: null });
    expect(station.row(settled)).toMatchObject({
      status: 'synced',
      etag: '"own"',
      lastErrorCode: null,
      syncNote: 'found in DPS',
    });
    expect(station.store.outboxCounts()).toMatchObject({ syncing: 1, synced: 1, failed: 0 });
  });
});

describe('applyReceipt: receipts that do not fit', () => {
  it('refuses a receipt of a bundle this station did not export', async () => {
    const s = station.provision('S1');
    const bundle = await exported();
    const stranger = { ...receipt(bundle, [answer(bundle, s, 1, synced)]), bundleId: randomUUID() };
    expect(() => apply(stranger)).toThrow(expect.objectContaining({ code: 'BUNDLE_UNKNOWN' }));
    expect(station.row(s)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(station.store.audit('outbox.bundle-received')).toEqual([]);
  });

  it('applies nothing when one answer names another body', async () => {
    const s = station.provision('S1');
    const p = station.provision('P1');
    const bundle = await exported();
    const rows = station.rows();
    const events = station.store.audit().length;
    const changed = { ...answer(bundle, p, 1, synced), bodySha256: 'ab'.repeat(32) };

    expect(() =>
      apply(receipt(bundle, [answer(bundle, s, 2, { ...synced, etag: '"s"' }), changed])),
    ).toThrow(expect.objectContaining({ code: 'BUNDLE_CORRUPT' }));

    expect(station.rows()).toEqual(rows);
    expect(sendsReceived(bundle.bundleId)).toEqual([0, 0]);
    expect(bundleRow(bundle.bundleId)).toEqual({ receivedAt: null, receipt: null });
    expect(station.store.audit().length).toBe(events);
  });

  it('applies nothing when one answer is for a row the bundle did not carry', async () => {
    const s = station.provision('S1');
    const first = await exported();
    const later = station.provision('L1');
    const second = await exported();
    const rows = station.rows();

    // `later` went in the second bundle, with its true body hash, but not in the first.
    const stray = answer(second, later, 1, synced);
    expect(() => apply(receipt(first, [answer(first, s, 1, synced), stray]))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_CORRUPT' }),
    );
    expect(station.rows()).toEqual(rows);

    // Nor is one for the right row under another registration ID.
    const renamed = { ...answer(first, s, 1, synced), registrationId: 'reg-other' };
    expect(() => apply(receipt(first, [renamed]))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_CORRUPT' }),
    );
    expect(station.rows()).toEqual(rows);
    expect(bundleRow(first.bundleId).receivedAt).toBeNull();
  });
});
