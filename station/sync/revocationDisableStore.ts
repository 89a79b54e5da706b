import type Database from 'better-sqlite3';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { carriedByBundleOut } from '../store/bundleRules.js';
import type { OutboxRow } from './enrollmentRequest.js';
import type { RetirementOutcome } from './retirementStore.js';

/** A revoked certificate's enrollment due to be disabled in DPS (migration 022). */
export interface DueDisable {
  row: OutboxRow;
  serialNumber: string;
  tries: number;
  /** Carried in an outbox bundle whose receipt is not back: DPS may get it yet. */
  inUnansweredBundle: boolean;
}

type RawDue = Omit<OutboxRow, 'needsReconcile'> & {
  serialNumber: string;
  tries: number;
  inUnansweredBundle: 0 | 1;
};

const DUE_SELECT = `SELECT e.id, e.registration_id AS registrationId, e.attestation, e.body,
    e.sealed_secret AS sealedSecret, e.attempts, d.certificate_serial AS serialNumber, d.tries,
    ${carriedByBundleOut('e.id')} AS inUnansweredBundle
  FROM revocation_disables d JOIN enrollments e ON e.id = d.enrollment_id`;
/** Due, and not waiting out an earlier try's delay (`?`: now, ISO 8601). */
const DUE_NOW = `d.state = 'due' AND (d.retry_after IS NULL OR d.retry_after <= ?)`;

/**
 * The outbox side of disabling revoked certificates' enrollments in DPS: which are due, and how
 * each ended, settled in one transaction with its `enrollment.revocation-disabled` audit event,
 * and only while still due.
 */
export class RevocationDisableStore {
  private readonly audit: AuditLog;
  private readonly due: Database.Statement;
  private readonly dueOne: Database.Statement;
  private readonly anyDue: Database.Statement;
  private readonly postponeRow: Database.Statement;
  private readonly settleTx: Database.Transaction<
    (due: DueDisable, outcome: RetirementOutcome, detail: Record<string, unknown>) => boolean
  >;

  /** `actor`: in whose name settlements are recorded (a receipt's: who received it). */
  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly actor: AuditActor = 'station',
  ) {
    this.audit = new AuditLog(db);
    this.due = db.prepare(`${DUE_SELECT} WHERE ${DUE_NOW} ORDER BY d.enrollment_id LIMIT ?`);
    this.dueOne = db.prepare(`${DUE_SELECT} WHERE d.enrollment_id = ? AND d.state = 'due'`);
    this.anyDue = db
      .prepare(`SELECT EXISTS (SELECT 1 FROM revocation_disables d WHERE ${DUE_NOW})`)
      .pluck();
    this.postponeRow = db.prepare(`UPDATE revocation_disables SET tries = tries + 1,
        retry_after = ?, note = ? WHERE enrollment_id = ? AND state = 'due'`);
    const settle = db.prepare(`UPDATE revocation_disables SET state = ?, settled_at = ?,
        retry_after = NULL, note = NULL WHERE enrollment_id = ? AND state = 'due'`);
    this.settleTx = db.transaction(
      (due: DueDisable, outcome: RetirementOutcome, detail: Record<string, unknown>) => {
        const at = new Date(this.now());
        if (settle.run(outcome, at.toISOString(), due.row.id).changes !== 1) return false;
        this.audit.append({
          at,
          actor: this.actor,
          kind: 'enrollment.revocation-disabled',
          subject: due.row.registrationId,
          detail: {
            enrollmentId: due.row.id,
            registrationId: due.row.registrationId,
            certificateSerial: due.serialNumber,
            outcome,
            ...detail,
          },
        });
        return true;
      },
    );
  }

  /** Up to `limit` rows due now, oldest first. */
  dueRows(limit: number): DueDisable[] {
    return (this.due.all(this.nowIso(), limit) as RawDue[]).map(dueOf);
  }

  /** Row `id` if it is still due. */
  dueRow(id: number): DueDisable | undefined {
    const raw = this.dueOne.get(id) as RawDue | undefined;
    return raw && dueOf(raw);
  }

  hasDue(): boolean {
    return this.anyDue.get(this.nowIso()) === 1;
  }

  /** A due row DPS did not settle this time: not tried again before `afterMs`, with why. */
  postpone(due: DueDisable, why: string, afterMs: number): boolean {
    const until = new Date(this.now() + afterMs).toISOString();
    return this.postponeRow.run(until, why.slice(0, 1024), due.row.id).changes === 1;
  }

  /** Records how the disable ended; false when the row was no longer due. */
  settle(due: DueDisable, outcome: RetirementOutcome, detail: Record<string, unknown>): boolean {
    return this.settleTx.immediate(due, outcome, detail);
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }
}

function dueOf(raw: RawDue): DueDisable {
  const { serialNumber, tries, inUnansweredBundle, ...row } = raw;
  return {
    row: { ...row, needsReconcile: false },
    serialNumber,
    tries,
    inUnansweredBundle: inUnansweredBundle === 1,
  };
}
