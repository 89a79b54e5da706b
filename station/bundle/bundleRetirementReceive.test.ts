/**
 * What `bundle receive` makes of a receipt's retirements when the line moved on meanwhile:
 * settleRetirements on a real station database (SyncTestStation), with receipts as the office
 * machine writes them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import type { ReceiptPayload, ReceiptRetirement } from './bundlePayload.js';
import { settleRetirements } from './bundleRetirementReceive.js';

let line: SyncTestStation;
beforeEach(() => {
  line = new SyncTestStation();
});
afterEach(() => line.close());

const NOW = new Date('2026-12-06T10:00:00.000Z');

/** A receipt of bundle b2 that reports `retirements` (what settleRetirements reads of it). */
const receipt = (...retirements: ReceiptRetirement[]) =>
  ({ bundleId: 'b2', retirements }) as unknown as ReceiptPayload;

const sent = (id: number) =>
  line.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(id);
const synced = (id: number) =>
  line.db
    .prepare(`UPDATE enrollments SET status = 'synced', attempts = 1, synced_at = ? WHERE id = ?`)
    .run(NOW.toISOString(), id);
const retirementOf = (id: number): unknown =>
  line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

describe('bundle receive, for retirements', () => {
  it('reads the live row again when the other machine disabled an ID the device took back', () => {
    const first = line.provision('SN1');
    sent(first);
    line.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');
    // Back to reg-sn1 (its retirement cleared), and synced before the receipt came home.
    const back = line.provision('SN1', { registrationId: 'reg-sn1' });
    synced(back);
    const disabled = { how: 'disabled in DPS' };
    const answer = { enrollmentId: first, registrationId: 'reg-sn1', outcome: 'disabled' as const };
    expect(
      line.db.transaction(() =>
        settleRetirements(line.db, receipt({ ...answer, detail: disabled }), NOW),
      )(),
    ).toBe(0);
    expect(line.row(back)).toMatchObject({ status: 'pending' });
    expect(
      line.db.prepare(`SELECT needs_reconcile FROM enrollments WHERE id = ?`).pluck().get(back),
    ).toBe(1);
    expect(line.store.audit('enrollment.sync-reopened')).toHaveLength(1);
    expect(retirementOf(first)).toBeNull();
  });

  it('keeps a row due that a bundle still out may yet create in DPS, rather than absent', () => {
    const first = line.provision('SN1');
    // Carried as a pending enrollment in bundle b1, written, its receipt not back.
    line.db
      .prepare(
        `INSERT INTO bundles (id, created_at, file, enrollments, written_at)
        VALUES ('b1', ?, 'f', 1, ?)`,
      )
      .run(NOW.toISOString(), NOW.toISOString());
    line.db
      .prepare(
        `INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256)
        VALUES ('b1', ?, ?)`,
      )
      .run(first, 'a'.repeat(64));
    line.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');
    const absent = { enrollmentId: first, registrationId: 'reg-sn1', outcome: 'absent' as const };
    expect(settleRetirements(line.db, receipt(absent), NOW)).toBe(0);
    expect(retirementOf(first)).toBe('due');

    // Once b1's receipt is home, DPS not holding it settles it.
    line.db.prepare(`UPDATE bundles SET received_at = ?, receipt = '{}'`).run(NOW.toISOString());
    expect(settleRetirements(line.db, receipt(absent), NOW)).toBe(1);
    expect(retirementOf(first)).toBe('absent');
  });
});
