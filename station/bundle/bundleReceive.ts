import type Database from 'better-sqlite3';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { withoutSecrets } from '../sync/dpsReconciler.js';
import { BundleError, otherDpsText } from './bundleErrors.js';
import { receiptCounts, type ReceiptPayload, type ReceiptResult } from './bundlePayload.js';
import { membersBlockedHere, settleRetirements } from './bundleRetirementReceive.js';
import { LateDpsAnswers } from './lateDpsAnswers.js';

/**
 * `bundle receive`: what DPS answered for a bundle's enrollments, applied to this station's
 * outbox in one transaction.
 *
 * An answer lands only on a row of that bundle whose body is still the one carried, and only
 * while the row is `pending`: a row this station synced itself meanwhile, or re-provisioned, or
 * that its own worker holds right now, keeps what it has. So a receipt can be applied twice, or
 * a later receipt of the same bundle after an earlier partial one, and each answer counts once.
 * A row the worker holds is not answered at all (its sends neither): the worker may hand it back
 * pending (offline), and the same receipt received again then applies it. The first receipt of
 * a bundle that carries DPS's answers names the bundle's DPS: a later one with answers from
 * another DPS is refused (BUNDLE_OTHER_DPS); one with no answer at all (DPS out of reach) is not.
 */

export interface ReceiveSummary {
  bundleId: string;
  synced: number;
  failed: number;
  conflict: number;
  /** The syncing machine got no answer for these: they stay pending, to be read from DPS first. */
  stillPending: number;
  /**
   * Group members no run of this bundle can confirm (it carries no fingerprint of their group's
   * key, or an earlier version answered them without asking DPS): pending, and no longer carried
   * by this bundle, so the next `bundle export` takes them.
   */
  exportAgain: number;
  /** Settled here already (by this station's own sync, or an earlier receipt): left as they are. */
  alreadySettled: number;
  /** Re-provisioned since the export: left to this station's worker. */
  leftAlone: number;
  /**
   * Being sent by this station's own sync right now: nothing of their answer applied, and the
   * bundle still carries them. Receive this receipt again once that sync has finished.
   */
  heldBySync: number;
  /** Superseded enrollments this receipt settled as retired in DPS (disabled, absent, not ours). */
  retired: number;
  /**
   * Superseded enrollments retired already that the receipt says DPS got after all (a bundle
   * synced late): due to be disabled or deleted again (lateDpsAnswers.ts).
   */
  retiredAgain: number;
}

/** A summary of a receipt that applied nothing (yet). */
export function nothingApplied(): Omit<ReceiveSummary, 'bundleId'> {
  return {
    ...{ synced: 0, failed: 0, conflict: 0, stillPending: 0, exportAgain: 0 },
    ...{ alreadySettled: 0, leftAlone: 0, heldBySync: 0, retired: 0, retiredAgain: 0 },
  };
}

interface Target {
  id: number;
  status: string;
  registrationId: string;
  carriedSha: string;
  sendsReceived: number;
  answerApplied: string | null;
}

/**
 * BUNDLE_UNKNOWN unless this station exported `bundleId`. The command asks it from the receipt's
 * clear header, before the passphrase; applyReceipt asks it again of the opened receipt.
 */
export function refuseUnknownBundle(db: Database.Database, bundleId: string): void {
  if (db.prepare('SELECT 1 FROM bundles WHERE id = ?').get(bundleId) === undefined) {
    throw new BundleError('BUNDLE_UNKNOWN', bundleId);
  }
}

/** Applies `receipt` (opened and validated) to the outbox of `db`. */
export function applyReceipt(
  db: Database.Database,
  receipt: ReceiptPayload,
  actor: AuditActor,
  now: () => Date = () => new Date(),
): ReceiveSummary {
  refuseUnknownBundle(db, receipt.bundleId);
  return db
    .transaction(() => {
      refuseOtherDps(db, receipt);
      // Read in the transaction: a commit meanwhile may make a member's ID blocked.
      const blocked = membersBlockedHere(db, receipt);
      const again = new Set([...answersOfNoUse(receipt), ...blocked.keys()]);
      const results = receipt.results.map((result) => blocked.get(result.id) ?? result);
      const applied = unconfirmedAsPending({ ...receipt, results });
      const summary = new ReceiptApplier(db, applied, again, actor, now()).all();
      // Why they wait, as `queue list` shows a row's last error.
      const why = db.prepare(`UPDATE enrollments SET last_error_code = ?, last_error = ?
        WHERE id = ? AND status = 'pending'`);
      for (const [id, result] of blocked) {
        why.run('SYNC_INDIVIDUAL_ENROLLMENT_FIRST', 'detail' in result ? result.detail : '', id);
      }
      return summary;
    })
    .immediate();
}

/**
 * BUNDLE_OTHER_DPS when an earlier receipt of this bundle applied here came from another DPS:
 * the bundle was synced to two (an emulator, a staging DPS), and its rows settled already by the
 * first must not count as settled again, nor rows the first left open be settled by the second.
 * Hosts are DNS names, compared without letter case. Read in the caller's transaction.
 */
function refuseOtherDps(db: Database.Database, receipt: ReceiptPayload): void {
  const first = db
    .prepare('SELECT dps_host FROM bundles WHERE id = ?')
    .pluck()
    .get(receipt.bundleId) as string | null | undefined;
  if (first == null || first.toLowerCase() === receipt.dpsHost.toLowerCase()) return;
  // A receipt of a sync that reached no DPS (a mistyped host, the network down) settles nothing.
  if (!dpsAnswered(receipt)) return;
  throw new BundleError(
    'BUNDLE_OTHER_DPS',
    `bundle ${receipt.bundleId}: first receipt from ${first}, this one (written ${receipt.writtenAt}) from ${receipt.dpsHost}`,
    { message: otherDpsText(first, receipt.dpsHost) },
  );
}

/**
 * Whether DPS answered anything in `receipt`. Only such a receipt names the bundle's DPS: one of
 * a sync that reached none (a mistyped host, DPS out of reach) must not bar the receipt of the
 * sync that then did.
 */
function dpsAnswered(receipt: ReceiptPayload): boolean {
  return (
    receipt.results.some((r) => r.outcome !== 'pending') || (receipt.retirements?.length ?? 0) > 0
  );
}

class ReceiptApplier {
  private readonly audit: AuditLog;
  private readonly at: string;
  private readonly sql;
  private readonly summary: ReceiveSummary;
  private readonly late: LateDpsAnswers;
  /** This receipt was written after every receipt of its bundle applied before (or is the first). */
  private readonly newerReceipt: boolean;

  constructor(
    private readonly db: Database.Database,
    private readonly receipt: ReceiptPayload,
    /** IDs of the rows whose answer no run of this bundle can better (answersOfNoUse). */
    private readonly goAgain: ReadonlySet<number>,
    private readonly actor: AuditActor,
    private readonly now: Date,
  ) {
    this.audit = new AuditLog(db);
    this.at = now.toISOString();
    this.summary = { bundleId: receipt.bundleId, ...nothingApplied() };
    this.late = new LateDpsAnswers(db, now, actor);
    const applied = db
      .prepare(`SELECT json_extract(receipt, '$.writtenAt') FROM bundles WHERE id = ?`)
      .pluck()
      .get(receipt.bundleId) as string | null | undefined;
    this.newerReceipt = applied == null || receipt.writtenAt > applied;
    const pending = `WHERE id = ? AND status = 'pending'`;
    this.sql = {
      target: db.prepare(`SELECT e.id, e.status, e.registration_id AS registrationId,
          b.body_sha256 AS carriedSha, b.sends_received AS sendsReceived,
          b.answer_applied AS answerApplied
        FROM bundle_enrollments b JOIN enrollments e ON e.id = b.enrollment_id
        WHERE b.bundle_id = ? AND b.enrollment_id = ?`),
      synced: db.prepare(`UPDATE enrollments SET status = 'synced', synced_at = ?, updated_at = ?,
          etag = ?, attempts = attempts + ?, next_attempt_at = NULL, needs_reconcile = 0,
          last_error = NULL, last_error_code = NULL, dps_error = NULL, dps_record = NULL,
          sync_note = ? ${pending}`),
      failed: db.prepare(`UPDATE enrollments SET status = 'failed', updated_at = ?,
          attempts = attempts + ?, next_attempt_at = NULL, needs_reconcile = 0,
          last_error_code = ?, last_error = ?, dps_error = ? ${pending}`),
      conflict: db.prepare(`UPDATE enrollments SET status = 'conflict', updated_at = ?, etag = ?,
          attempts = attempts + ?, next_attempt_at = NULL, needs_reconcile = 0,
          last_error_code = 'SYNC_CONFLICT', last_error = ?, dps_record = ?, dps_error = NULL
        ${pending}`),
      // No answer, but maybe sent: counted, so this station reads DPS before it sends the row.
      sent: db.prepare(`UPDATE enrollments SET attempts = attempts + ?, needs_reconcile = 1,
          updated_at = ? WHERE id = ? AND status IN ('pending', 'superseded')`),
      sends: db.prepare(`UPDATE bundle_enrollments SET sends_received = ?
        WHERE bundle_id = ? AND enrollment_id = ?`),
      answered: db.prepare(`UPDATE bundle_enrollments SET answer_applied = ?
        WHERE bundle_id = ? AND enrollment_id = ?`),
      // An older receipt applied after a newer one (two sticks) does not roll the counts back.
      received: db.prepare(`UPDATE bundles SET received_at = ?, receipt = ? WHERE id = ?
        AND (receipt IS NULL OR coalesce(json_extract(receipt, '$.writtenAt'), '') <= ?)`),
      // The first answering receipt's DPS only (refuseOtherDps): later ones name the same host.
      host: db.prepare(`UPDATE bundles SET dps_host = ? WHERE id = ? AND dps_host IS NULL`),
    };
  }

  all(): ReceiveSummary {
    for (const result of this.receipt.results) this.one(result);
    this.summary.retired = settleRetirements(this.db, this.receipt, this.now, this.actor);
    const { bundleId: _id, ...applied } = this.summary;
    // The bundle keeps what DPS answered as of this receipt, whatever this apply had left to do.
    const counts = { ...receiptCounts(this.receipt), writtenAt: this.receipt.writtenAt };
    this.sql.received.run(
      this.at,
      JSON.stringify(counts),
      this.receipt.bundleId,
      this.receipt.writtenAt,
    );
    if (dpsAnswered(this.receipt)) this.sql.host.run(this.receipt.dpsHost, this.receipt.bundleId);
    this.event('outbox.bundle-received', this.receipt.bundleId, {
      ...applied,
      dpsHost: this.receipt.dpsHost,
      receiptWrittenAt: this.receipt.writtenAt,
      syncedOn: this.receipt.syncedOn ?? null,
    });
    return this.summary;
  }

  private one(result: ReceiptResult): void {
    const target = this.sql.target.get(this.receipt.bundleId, result.id) as Target | undefined;
    const same =
      target !== undefined &&
      target.carriedSha === result.bodySha256 &&
      target.registrationId.toLowerCase() === result.registrationId.toLowerCase();
    if (!same) {
      // Not a row of this bundle as carried: an answer for something else is never applied.
      throw new BundleError(
        'BUNDLE_CORRUPT',
        `the receipt answers for enrollment ${result.id}, which bundle ${this.receipt.bundleId} did not carry as it says`,
      );
    }
    // Receipts report running totals: only the sends no earlier receipt reported are added.
    const newSends = Math.max(0, result.attempts - target.sendsReceived);
    // What DPS holds now of a row re-provisioned since: on its first answer, and on every receipt
    // newer than the last applied (the bundle synced again, maybe elsewhere, after a retirement).
    const firstOrNewer = target.answerApplied === null || this.newerReceipt;
    if (
      target.status === 'superseded' &&
      firstOrNewer &&
      this.late.superseded(target.id, result, this.receipt.bundleId)
    ) {
      this.summary.retiredAgain++;
    }
    // A revoked certificate the late bundle put in DPS all the same is disabled there again.
    if (firstOrNewer && this.late.revoked(target.id, result, this.receipt.bundleId)) {
      this.summary.retiredAgain++;
    }
    if (target.answerApplied === null && target.status === 'syncing') {
      // Its worker may yet hand it back pending (offline): noted as answered, the answer would
      // then never land, and DPS would hold an enrollment the line sends again. Nothing is noted,
      // not even the sends, so receiving this receipt again applies all of it.
      this.summary.heldBySync++;
      return;
    }
    if (newSends > 0) this.sql.sends.run(result.attempts, this.receipt.bundleId, target.id);
    if (target.answerApplied !== null) {
      // This bundle answered it once, or a supervisor requeued it since: a later receipt, whose
      // machine still holds the old answer, must not undo that. Sends it reports still count.
      if (newSends > 0 && target.status === 'pending')
        this.sql.sent.run(newSends, this.at, target.id);
      this.summary.alreadySettled++;
      return;
    }
    // A final answer is noted as given even where the row moved on (this station settled it
    // itself, or re-provisioned the device): the bundle no longer carries it either way.
    if (result.outcome !== 'pending') {
      this.sql.answered.run(result.outcome, this.receipt.bundleId, target.id);
    } else if (this.goAgain.has(result.id)) {
      // Noted as a requeue is: the bundle no longer carries the row, which goes in the next
      // export (without --include-carried, which would also carry again what still travels).
      this.sql.answered.run('requeued', this.receipt.bundleId, target.id);
    }
    if (target.status !== 'pending') {
      if (newSends > 0 && target.status === 'superseded') {
        this.sql.sent.run(newSends, this.at, target.id);
      }
      if (target.status === 'superseded') this.summary.leftAlone++;
      else this.summary.alreadySettled++;
      return;
    }
    this.settle(result, newSends);
  }

  private settle(result: ReceiptResult, newSends: number): void {
    const base = {
      enrollmentId: result.id,
      attempts: result.attempts,
      bundleId: this.receipt.bundleId,
    };
    switch (result.outcome) {
      case 'synced': {
        // unconfirmedAsPending took every `group` answer out.
        if (result.how === 'group') return;
        const note = `synced through bundle ${this.receipt.bundleId.slice(0, 8)} (${describeHow(result.how, result.note)})`;
        this.sql.synced.run(this.at, this.at, result.etag ?? null, newSends, note, result.id);
        this.summary.synced++;
        this.event('enrollment.synced', result.registrationId, {
          ...base,
          how: result.how,
          ...(result.how === 'confirmed-by-group' && result.note && { note: result.note }),
        });
        return;
      }
      case 'failed': {
        const dpsError = result.dpsError ? JSON.stringify(result.dpsError) : null;
        this.sql.failed.run(this.at, newSends, result.code, result.detail, dpsError, result.id);
        this.summary.failed++;
        this.event('enrollment.sync-failed', result.registrationId, {
          ...base,
          code: result.code,
          detail: result.detail,
          dpsError: result.dpsError ?? null,
        });
        return;
      }
      case 'conflict': {
        const etag = typeof result.dpsRecord.etag === 'string' ? result.dpsRecord.etag : null;
        this.sql.conflict.run(
          this.at,
          etag,
          newSends,
          result.detail,
          // Kept as the worker keeps it: a key in a record from another machine is dropped.
          JSON.stringify(withoutSecrets(result.dpsRecord as IndividualEnrollment)),
          result.id,
        );
        this.summary.conflict++;
        this.event('enrollment.conflict', result.registrationId, {
          ...base,
          detail: result.detail,
        });
        return;
      }
      case 'pending':
        if (newSends > 0) this.sql.sent.run(newSends, this.at, result.id);
        if (this.goAgain.has(result.id)) this.summary.exportAgain++;
        else this.summary.stillPending++;
    }
  }

  private event(kind: string, subject: string, detail: Record<string, unknown>): void {
    this.audit.append({ at: this.now, actor: this.actor, kind, subject, detail });
  }
}

/**
 * The rows whose answer no run of this bundle can better, so the bundle lets them go: group
 * members it carries no fingerprint of the group key for (SYNC_GROUP_KEY_UNAVAILABLE: a bundle an
 * earlier version exported, or the key did not open at export), and an earlier version's
 * `how: group` answers (that version's sync never asks DPS, and runs again the same way).
 */
function answersOfNoUse(receipt: ReceiptPayload): Set<number> {
  const ids = receipt.results
    .filter(
      (result) =>
        (result.outcome === 'synced' && result.how === 'group') ||
        (result.outcome === 'pending' && result.code === 'SYNC_GROUP_KEY_UNAVAILABLE'),
    )
    .map((result) => result.id);
  return new Set(ids);
}

/**
 * An earlier version's syncing machine answered group members `synced` (`how: group`) without
 * asking DPS anything: such an answer is no answer, and the row stays pending (to be checked by
 * this station's own sync, or by the next bundle it exports, which this version syncs).
 */
function unconfirmedAsPending(receipt: ReceiptPayload): ReceiptPayload {
  const results = receipt.results.map((result): ReceiptResult => {
    if (result.outcome !== 'synced' || result.how !== 'group') return result;
    const { id, registrationId, bodySha256, attempts } = result;
    return {
      ...{ id, registrationId, bodySha256, attempts, outcome: 'pending' },
      detail: 'the syncing machine did not ask DPS for its enrollment group (an earlier version)',
    };
  });
  return { ...receipt, results };
}

function describeHow(
  how: 'created' | 'found' | 'replaced' | 'confirmed-by-group',
  note?: string,
): string {
  if (how === 'confirmed-by-group') return note ?? 'confirmed by its enrollment group in DPS';
  return how === 'created' ? 'created in DPS' : `${how} in DPS`;
}
