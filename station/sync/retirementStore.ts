import type Database from 'better-sqlite3';
import { AuditLog } from '../store/auditLog.js';
import type { OutboxRow } from './enrollmentRequest.js';

/** How the retirement of a superseded enrollment in DPS ended (migration 017). */
export type RetirementOutcome = 'disabled' | 'absent' | 'not-ours';

/** A superseded row due for retirement, with the registration ID that replaced its own. */
export interface DueRetirement {
  row: OutboxRow;
  successorId: number;
  successorRegistrationId: string;
}

type RawDue = Omit<OutboxRow, 'needsReconcile'> & {
  successorId: number;
  successorRegistrationId: string;
};

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
  private readonly settleTx: Database.Transaction<
    (due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>) => boolean
  >;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
  ) {
    this.audit = new AuditLog(db);
    // Through the partial index of due rows (migration 017): never a walk through history.
    this.due = db.prepare(`SELECT e.id, e.registration_id AS registrationId, e.attestation,
        e.body, e.sealed_secret AS sealedSecret, e.attempts, s.id AS successorId,
        s.registration_id AS successorRegistrationId
      FROM enrollments e JOIN enrollments s ON s.id = e.superseded_by
      WHERE e.retirement = 'due' ORDER BY e.id LIMIT ?`);
    this.dueOne = db.prepare(`SELECT e.id, e.registration_id AS registrationId, e.attestation,
        e.body, e.sealed_secret AS sealedSecret, e.attempts, s.id AS successorId,
        s.registration_id AS successorRegistrationId
      FROM enrollments e JOIN enrollments s ON s.id = e.superseded_by
      WHERE e.id = ? AND e.retirement = 'due'`);
    this.anyDue = db
      .prepare(`SELECT EXISTS (SELECT 1 FROM enrollments WHERE retirement = 'due')`)
      .pluck();
    const settle = db.prepare(`UPDATE enrollments SET retirement = ?, retired_at = ?
      WHERE id = ? AND retirement = 'due'`);
    this.settleTx = db.transaction(
      (due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>) => {
        const at = new Date(this.now());
        if (settle.run(outcome, at.toISOString(), due.row.id).changes !== 1) return false;
        this.audit.append({
          at,
          actor: 'station',
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

  /** Up to `limit` rows due for retirement, oldest first. */
  dueRows(limit: number): DueRetirement[] {
    return (this.due.all(limit) as RawDue[]).map(dueOf);
  }

  /** Row `id` if it is due for retirement (a bundle's receipt settles it by id). */
  dueRow(id: number): DueRetirement | undefined {
    const raw = this.dueOne.get(id) as RawDue | undefined;
    return raw && dueOf(raw);
  }

  hasDue(): boolean {
    return this.anyDue.get() === 1;
  }

  /** Records how a retirement ended; false when the row was no longer due. */
  settle(due: DueRetirement, outcome: RetirementOutcome, detail: Record<string, unknown>): boolean {
    return this.settleTx.immediate(due, outcome, detail);
  }
}

function dueOf({ successorId, successorRegistrationId, ...row }: RawDue): DueRetirement {
  return { row: { ...row, needsReconcile: false }, successorId, successorRegistrationId };
}
