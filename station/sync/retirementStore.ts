import type Database from 'better-sqlite3';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { carriedByBundleOut } from '../store/bundleRules.js';
import { heldByGroupMember } from '../store/retirementRules.js';
import type { OutboxRow } from './enrollmentRequest.js';

/** How the retirement of a superseded enrollment in DPS ended (migration 017). */
export type RetirementOutcome = 'disabled' | 'absent' | 'not-ours';

/**
 * A superseded row due for retirement, with the enrollment that replaced it (none known for a
 * row superseded before the station linked successors) and how often DPS did not settle it.
 */
export interface DueRetirement {
  row: OutboxRow;
  successorId: number | null;
  successorRegistrationId: string | null;
  tries: number;
  /**
   * Carried in an outbox bundle whose receipt is not back: DPS not holding it yet proves
   * nothing, as the machine that syncs the bundle may still create it.
   */
  inUnansweredBundle: boolean;
  /**
   * A group member's live row uses its registration ID (retirementRules.ts): the record goes
   * from DPS (deleted), as an individual enrollment would keep the member's device out.
   */
  heldByGroup: boolean;
}

type RawDue = Omit<OutboxRow, 'needsReconcile'> &
  Omit<DueRetirement, 'row' | 'inUnansweredBundle' | 'heldByGroup'> & {
    inUnansweredBundle: 0 | 1;
    heldByGroup: 0 | 1;
  };

const DUE_SELECT = `SELECT e.id, e.registration_id AS registrationId, e.attestation, e.body,
    e.sealed_secret AS sealedSecret, e.attempts, e.retire_tries AS tries, s.id AS successorId,
    s.registration_id AS successorRegistrationId,
    ${carriedByBundleOut('e.id')} AS inUnansweredBundle,
    ${heldByGroupMember('e')} AS heldByGroup
  FROM enrollments e LEFT JOIN enrollments s ON s.id = e.superseded_by`;
/** Why a live row is read from DPS again, unless the caller says otherwise. */
const TOOK_BACK_AFTER_DISABLE =
  'a retirement disabled this registration ID in DPS after the device took it back: read from DPS again, and enabled';

/** Due, and not waiting out an earlier try's delay (`?`: now, ISO 8601). */
const DUE_NOW = `e.retirement = 'due' AND (e.retire_after IS NULL OR e.retire_after <= ?)`;

/**
 * The outbox side of retiring superseded enrollments: which are due, and how each ended. A
 * settlement is one transaction with its `enrollment.retired` audit event, and applies only to
 * a row still `due`, so a settlement learnt late never overwrites one already recorded.
 */
export class RetirementStore {
  private readonly audit: AuditLog;
  private readonly due: Database.Statement;
  private readonly dueOne: Database.Statement;
  private readonly anyDue: Database.Statement;
  private readonly postponeRow: Database.Statement;
  private readonly reopenLiveTx: Database.Transaction<
    (registrationId: string, reason: string) => number
  >;
  private readonly settleTx: Database.Transaction<
    (due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>) => boolean
  >;

  /** `actor`: in whose name settlements are recorded (a receipt's: who received it). */
  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly actor: AuditActor = 'station',
  ) {
    this.audit = new AuditLog(db);
    // Through the partial index of due rows (migration 017): never a walk through history.
    this.due = db.prepare(`${DUE_SELECT} WHERE ${DUE_NOW} ORDER BY e.id LIMIT ?`);
    this.dueOne = db.prepare(`${DUE_SELECT} WHERE e.id = ? AND e.retirement = 'due'`);
    this.anyDue = db
      .prepare(`SELECT EXISTS (SELECT 1 FROM enrollments e WHERE ${DUE_NOW})`)
      .pluck();
    this.postponeRow = db.prepare(`UPDATE enrollments SET retire_tries = retire_tries + 1,
        retire_after = ?, retire_note = ?
      WHERE id = ? AND retirement = 'due'`);
    const settle = db.prepare(`UPDATE enrollments SET retirement = ?, retired_at = ?,
        retire_after = NULL, retire_note = NULL
      WHERE id = ? AND retirement = 'due'`);
    // A group member that waited on this row goes now, to be synced or found in conflict.
    const releaseMember = db.prepare(`UPDATE enrollments SET next_attempt_at = NULL
      WHERE registration_id = ? AND status = 'pending'
        AND last_error_code = 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST'`);
    // A row `syncing` is reopened too: its batch may have read DPS before the disable landed,
    // and its settlement, under a claim no longer current, is then dropped (outboxSyncStore.ts).
    // Never a row whose certificate was revoked (migration 022): its sync would enable in DPS
    // the record the revocation disables there.
    const reopen = db.prepare(`UPDATE enrollments SET status = 'pending', synced_at = NULL,
        next_attempt_at = NULL, sync_note = NULL, needs_reconcile = 1, updated_at = ?
      WHERE registration_id = ? AND status IN ('synced', 'syncing')
        AND id NOT IN (SELECT enrollment_id FROM revocation_disables) RETURNING id`);
    this.reopenLiveTx = db.transaction((registrationId: string, reason: string) => {
      const at = new Date(this.now());
      const reopened = reopen.all(at.toISOString(), registrationId) as { id: number }[];
      for (const { id } of reopened) {
        this.audit.append({
          at,
          actor: 'station',
          kind: 'enrollment.sync-reopened',
          subject: registrationId,
          detail: { enrollmentId: id, reason },
        });
      }
      return reopened.length;
    });
    this.settleTx = db.transaction(
      (due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>) => {
        const at = new Date(this.now());
        if (settle.run(outcome, at.toISOString(), due.row.id).changes !== 1) return false;
        if (due.heldByGroup) releaseMember.run(due.row.registrationId);
        this.audit.append({
          at,
          actor: this.actor,
          kind: 'enrollment.retired',
          subject: due.row.registrationId,
          detail: {
            enrollmentId: due.row.id,
            registrationId: due.row.registrationId,
            outcome,
            successorEnrollmentId: due.successorId,
            successorRegistrationId: due.successorRegistrationId,
            ...detail,
          },
        });
        return true;
      },
    );
  }

  /** Up to `limit` rows due for retirement now, oldest first. */
  dueRows(limit: number): DueRetirement[] {
    return (this.due.all(this.nowIso(), limit) as RawDue[]).map(dueOf);
  }

  /** Row `id` if it is due for retirement (a bundle's receipt settles it by id). */
  dueRow(id: number): DueRetirement | undefined {
    const raw = this.dueOne.get(id) as RawDue | undefined;
    return raw && dueOf(raw);
  }

  /** Whether a row is due for retirement now. */
  hasDue(): boolean {
    return this.anyDue.get(this.nowIso()) === 1;
  }

  /**
   * A due row DPS did not settle this time: not tried again before `afterMs` from now, with why
   * (`queue list` shows it); false when the row was no longer due.
   */
  postpone(due: DueRetirement, why: string, afterMs: number): boolean {
    const until = new Date(this.now() + afterMs).toISOString();
    return this.postponeRow.run(until, why.slice(0, 1024), due.row.id).changes === 1;
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * A retirement disabled `registrationId` in DPS after a commit took the ID back (the row was
   * no longer due when its answer came): the live row of that ID, if marked synced or being
   * synced, goes back to pending, to be read from DPS first, whose sync enables our own
   * disabled enrollment again, or creates it (dpsReconciler.ts). `reason` goes in each row's
   * `enrollment.sync-reopened` audit event. Returns how many were reopened.
   */
  reopenLive(registrationId: string, reason = TOOK_BACK_AFTER_DISABLE): number {
    return this.reopenLiveTx.immediate(registrationId, reason);
  }

  /** Records how a retirement ended; false when the row was no longer due. */
  settle(due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>): boolean {
    return this.settleTx.immediate(due, outcome, detail);
  }
}

function dueOf(raw: RawDue): DueRetirement {
  const { successorId, successorRegistrationId, tries, inUnansweredBundle, heldByGroup, ...row } =
    raw;
  return {
    row: { ...row, needsReconcile: false },
    successorId,
    successorRegistrationId,
    tries,
    inUnansweredBundle: inUnansweredBundle === 1,
    heldByGroup: heldByGroup === 1,
  };
}
