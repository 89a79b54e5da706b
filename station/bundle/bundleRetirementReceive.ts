import type Database from 'better-sqlite3';
import type { AuditActor } from '../store/auditLog.js';
import { RetirementStore } from '../sync/retirementStore.js';
import { wroteToDps } from '../sync/supersededRetirement.js';
import { BundleError } from './bundleErrors.js';
import type { ReceiptPayload, ReceiptRetirement } from './bundlePayload.js';

/**
 * The line's half of retiring superseded enrollments across an air gap: each retirement a
 * receipt reports settles its row, with its `enrollment.retired` audit event, as the online
 * worker settles it (RetirementStore). Only a row still `due` takes it: one settled by this
 * station's own worker, or by an earlier receipt, keeps what it has, so a receipt applied twice
 * counts once.
 */

/** What the audit event keeps of the syncing machine's detail: the online worker's own keys. */
const DETAIL_KEYS = ['how', 'dpsEtag', 'dpsAttestation', 'reason'] as const;

/**
 * Settles the receipt's retirements (inside the caller's transaction), in the name of whoever
 * received it; returns how many rows took theirs. Throws BUNDLE_CORRUPT for an answer naming a due row under another registration
 * ID: an answer for something else is never applied.
 */
export function settleRetirements(
  db: Database.Database,
  receipt: ReceiptPayload,
  now: Date,
  actor: AuditActor = 'station',
): number {
  const store = new RetirementStore(db, () => now.getTime(), actor);
  // This receipt's own bundle is answered now: only another one still out counts.
  const inAnotherBundle = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM bundle_enrollments be JOIN bundles b ON b.id = be.bundle_id
        WHERE be.enrollment_id = ? AND b.id != ? AND be.answer_applied IS NULL
          AND b.written_at IS NOT NULL AND b.received_at IS NULL)`,
    )
    .pluck();
  let settled = 0;
  for (const answer of receipt.retirements ?? []) {
    const due = store.dueRow(answer.enrollmentId);
    if (due === undefined) {
      // No longer due: if the ID was taken back meanwhile and the other machine disabled or
      // deleted it in DPS all the same, the live row of that ID is read from DPS again, and
      // enables or creates it.
      if (wroteToDps(answer)) {
        store.reopenLive(answer.registrationId.toLowerCase());
      }
      continue;
    }
    // Another bundle still out may yet create it in DPS: not settled as absent, carried again.
    // (A group member's bundle carries the earlier row it deleted as history, too.)
    if (
      answer.outcome === 'absent' &&
      due.inUnansweredBundle &&
      inAnotherBundle.get(due.row.id, receipt.bundleId) === 1
    ) {
      continue;
    }
    if (due.row.registrationId.toLowerCase() !== answer.registrationId.toLowerCase()) {
      throw new BundleError(
        'BUNDLE_CORRUPT',
        `the receipt retires enrollment ${answer.enrollmentId} under registration ID ${answer.registrationId}, which is not its own`,
      );
    }
    const detail = { ...keptDetail(answer), bundleId: receipt.bundleId, through: 'bundle' };
    if (store.settle(due, answer.outcome, detail)) settled++;
  }
  return settled;
}

function keptDetail(answer: ReceiptRetirement): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of DETAIL_KEYS) {
    const value = answer.detail?.[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
}
