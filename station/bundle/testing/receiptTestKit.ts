/**
 * Helpers for the applyReceipt tests (never used at run time): a station whose pending rows are
 * exported as the line does, and receipts written as the syncing machine would write them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { SyncTestStation } from '../../sync/testing/syncTestStation.js';
import { exportBundle } from '../bundleExport.js';
import {
  RECEIPT_PAYLOAD_FORMAT,
  bundlePayloadSchema,
  checkPayload,
  receiptPayloadSchema,
  type BundleEnrollment,
  type BundlePayload,
  type ReceiptPayload,
  type ReceiptResult,
} from '../bundlePayload.js';
import { applyReceipt, nothingApplied, type ReceiveSummary } from '../bundleReceive.js';
import { openPayload } from '../bundleSeal.js';

// Cheap scrypt and one salt per session: these tests are about the outbox, not the passphrase.
const bundleWrapper = new PassphraseKeyWrapper('bundle passphrase', {
  scrypt: { N: 1024 },
  session: true,
});
export const EXPORTED = new Date('2026-03-02T08:00:00.000Z');
export const RECEIVED = new Date('2026-03-03T09:00:00.000Z');
export const LATER = new Date('2026-03-04T10:00:00.000Z');

/** The carried entry (enrollment or history) of outbox row `id`. */
export function entryOf(bundle: BundlePayload, id: number): BundleEnrollment {
  const entry = [...bundle.enrollments, ...bundle.history].find((e) => e.id === id);
  if (!entry) throw new Error(`bundle does not carry ${id}`);
  return entry;
}

export type Answer =
  | {
      outcome: 'synced';
      how: 'created' | 'found' | 'replaced' | 'confirmed-by-group' | 'group';
      etag?: string;
      note?: string;
    }
  | { outcome: 'failed'; code: string; detail: string; dpsError?: Record<string, unknown> }
  | { outcome: 'conflict'; detail: string; dpsRecord: Record<string, unknown> }
  | { outcome: 'pending'; code?: string };

/** DPS's answer for row `id` as the syncing machine would write it, naming what was carried. */
export function answer(
  bundle: BundlePayload,
  id: number,
  attempts: number,
  a: Answer,
): ReceiptResult {
  const { registrationId, bodySha256 } = entryOf(bundle, id);
  return { id, registrationId, bodySha256, attempts, ...a } as ReceiptResult;
}

/** When the test receipts were written on the syncing machine, unless a test says otherwise. */
export const RECEIPT_WRITTEN = '2026-03-02T20:00:00.000Z';

/** A receipt as it comes out of its seal: validated like the real one. */
export function receipt(
  bundle: BundlePayload,
  results: ReceiptResult[],
  writtenAt = RECEIPT_WRITTEN,
): ReceiptPayload {
  return checkPayload(
    receiptPayloadSchema,
    {
      format: RECEIPT_PAYLOAD_FORMAT,
      version: 1,
      bundleId: bundle.bundleId,
      writtenAt,
      dpsHost: 'line.azure-devices-provisioning.net',
      results,
    },
    'the test receipt',
  );
}

export const synced = { outcome: 'synced', how: 'created' } as const;
export const stillPending = { outcome: 'pending', code: 'SYNC_OFFLINE' } as const;

export function counts(over: Partial<ReceiveSummary>): Omit<ReceiveSummary, 'bundleId'> {
  return { ...nothingApplied(), ...over };
}

/** A SyncTestStation with the bundle side of the outbox: export, apply, and what was recorded. */
export class ReceiptTestKit {
  readonly station = new SyncTestStation();
  // Counted per kit: each station has a directory of its own, so the names cannot collide.
  private exports = 0;

  /** Exports the pending rows as the line does and reads the bundle back. */
  async exported(options: { includeCarried?: boolean } = {}): Promise<BundlePayload> {
    const file = join(this.station.dir, `outbox-${++this.exports}.bundle`);
    await exportBundle({
      db: this.station.db,
      file,
      wrapper: bundleWrapper,
      caSecrets: () => Promise.resolve(this.station.openSecret),
      actor: 'supervisor:ana',
      dataDir: this.station.dir,
      now: () => EXPORTED,
      ...options,
    });
    const { payload } = await openPayload(readFileSync(file, 'utf8'), 'bundle', bundleWrapper);
    return checkPayload(bundlePayloadSchema, payload, 'the bundle read back');
  }

  apply(payload: ReceiptPayload, at = RECEIVED): ReceiveSummary {
    return applyReceipt(this.station.db, payload, 'supervisor:ben', () => at);
  }

  bundleRow(id: string): { receivedAt: string | null; receipt: string | null } {
    return this.station.db
      .prepare(`SELECT received_at AS receivedAt, receipt FROM bundles WHERE id = ?`)
      .get(id) as { receivedAt: string | null; receipt: string | null };
  }

  sendsReceived(bundleId: string): number[] {
    return this.station.db
      .prepare(
        `SELECT sends_received FROM bundle_enrollments WHERE bundle_id = ? ORDER BY enrollment_id`,
      )
      .pluck()
      .all(bundleId) as number[];
  }

  close(): Promise<void> {
    return this.station.close();
  }
}
