import type Database from 'better-sqlite3';
import type { AuditActor } from '../store/auditLog.js';
import { carriedByBundleOut, reportedInDpsAfterWritten } from '../store/bundleRules.js';
import { earlierIndividualIds } from '../store/retirementRules.js';
import { RetirementStore } from '../sync/retirementStore.js';
import { RevocationDisableStore } from '../sync/revocationDisableStore.js';
import { wroteToDps } from '../sync/supersededRetirement.js';
import { BundleError } from './bundleErrors.js';
import type { ReceiptPayload, ReceiptResult, ReceiptRetirement } from './bundlePayload.js';

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
  const revocations = new RevocationDisableStore(db, () => now.getTime(), actor);
  const inAnotherBundle = carriedByAnotherBundleOut(db, receipt);
  const staleAbsent = absentMayBeStale(db, receipt);
  let settled = 0;
  for (const answer of receipt.retirements ?? []) {
    // A revoked certificate's row, carried as a retirement is: settled in its own table.
    const revoked = revocations.dueRow(answer.enrollmentId);
    if (revoked !== undefined) {
      checkSameId(revoked.row.registrationId, answer);
      if (
        answer.outcome === 'absent' &&
        (inAnotherBundle(revoked.row.id) || staleAbsent(revoked.row.id))
      ) {
        continue;
      }
      const detail = { ...keptDetail(answer), bundleId: receipt.bundleId, through: 'bundle' };
      if (revocations.settle(revoked, answer.outcome, detail)) settled++;
      continue;
    }
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
    if (answer.outcome === 'absent' && due.inUnansweredBundle && inAnotherBundle(due.row.id)) {
      continue;
    }
    // Another bundle's receipt, back since this bundle was written, put it in DPS: read again.
    if (answer.outcome === 'absent' && staleAbsent(due.row.id)) continue;
    checkSameId(due.row.registrationId, answer);
    // Disabled by a machine that did not know a group member uses the ID now (an earlier
    // version, or a bundle exported before the member): it blocks the member all the same, so
    // the row stays due and the next bundle carries its deletion.
    if (answer.outcome === 'disabled' && due.heldByGroup) continue;
    const detail = { ...keptDetail(answer), bundleId: receipt.bundleId, through: 'bundle' };
    if (store.settle(due, answer.outcome, detail)) settled++;
  }
  return settled;
}

/** BUNDLE_CORRUPT for an answer under a registration ID that is not its row's own. */
function checkSameId(registrationId: string, answer: ReceiptRetirement): void {
  if (registrationId.toLowerCase() !== answer.registrationId.toLowerCase()) {
    throw new BundleError(
      'BUNDLE_CORRUPT',
      `the receipt retires enrollment ${answer.enrollmentId} under registration ID ${answer.registrationId}, which is not its own`,
    );
  }
}

/**
 * Whether another bundle still out carries row `id`: the machine that syncs it may yet create the
 * row in DPS, so this receipt's "not in DPS" settles nothing. This receipt's own bundle is
 * answered now, and one declared lost counts for nothing.
 */
function carriedByAnotherBundleOut(
  db: Database.Database,
  receipt: ReceiptPayload,
): (id: number) => boolean {
  const query = db.prepare(`SELECT ${carriedByBundleOut('?', { exceptBundle: true })}`).pluck();
  return (id) => query.get(id, receipt.bundleId) === 1;
}

/**
 * Whether this receipt's "not in DPS" for row `id` may predate a write of it: another bundle's
 * receipt, back since this bundle was written, reported DPS holding it (reportedInDpsAfterWritten).
 * Such a row stays due. Without this, a receipt applied while the row was due (it changes
 * nothing then) followed by an older "absent" would settle a row that DPS holds enabled.
 */
function absentMayBeStale(db: Database.Database, receipt: ReceiptPayload): (id: number) => boolean {
  const query = db.prepare(`SELECT ${reportedInDpsAfterWritten('?')}`).pluck();
  return (id) => query.get(id, receipt.bundleId, receipt.bundleId) === 1;
}

function keptDetail(answer: ReceiptRetirement): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of DETAIL_KEYS) {
    const value = answer.detail?.[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
}

/**
 * The receipt's group members the line must not take as synced: an individual enrollment under
 * the member's registration ID keeps its device out of DPS (retirementRules.ts), as this line
 * knows and the syncing machine may not have (an earlier version, which disables instead of
 * deleting and confirms the member all the same). Such a member goes back pending, its answer
 * of no use, and travels in the next bundle with the deletion: returned as its answer to apply
 * instead. A row this receipt settles as no longer in DPS blocks nothing; one it finds absent
 * while another bundle still out carries it does block, as that bundle may yet create it.
 */
export function membersBlockedHere(
  db: Database.Database,
  receipt: ReceiptPayload,
): Map<number, ReceiptResult> {
  // Only rows still to be deleted: one found another party's is the syncing machine's to judge
  // (it reads DPS, and answers the member a conflict while that record is there).
  const individuals = db.prepare(earlierIndividualIds(['due']));
  // Not in DPS, as this receipt says, and settled so: no other bundle out may yet create it.
  const inAnotherBundle = carriedByAnotherBundleOut(db, receipt);
  const staleAbsent = absentMayBeStale(db, receipt);
  const gone = new Set(
    (receipt.retirements ?? [])
      .filter(
        (r) =>
          r.outcome === 'absent' &&
          !inAnotherBundle(r.enrollmentId) &&
          !staleAbsent(r.enrollmentId),
      )
      .map((r) => r.enrollmentId),
  );
  const blocked = new Map<number, ReceiptResult>();
  for (const result of receipt.results) {
    if (result.outcome !== 'synced' || result.how !== 'confirmed-by-group') continue;
    const rows = individuals.all(result.registrationId) as { id: number }[];
    const blocking = rows.find((r) => !gone.has(r.id));
    if (blocking === undefined) continue;
    const { id, registrationId, bodySha256, attempts } = result;
    blocked.set(id, {
      ...{ id, registrationId, bodySha256, attempts, outcome: 'pending' },
      detail: `enrollment ${blocking.id}, an individual enrollment under ${registrationId}, is not deleted from DPS yet; the syncing machine confirmed the group without it`,
    });
  }
  return blocked;
}
