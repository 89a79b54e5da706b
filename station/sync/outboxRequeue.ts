/**
 * A supervisor's way back for enrollments that need a person: after the cause is fixed (the
 * conflicting record removed from DPS, the profile corrected), `failed` and `conflict` rows go
 * back to `pending`. They are flagged to be read from DPS first, so the worker decides again
 * from what DPS holds now: create, found already there, or conflict once more. Nothing is sent
 * blindly, and the audit trail names who asked.
 */
import type Database from 'better-sqlite3';
import { AuditLog } from '../store/auditLog.js';
import { REVOKED_CODE } from '../store/revokedEnrollment.js';
import { RECHECK_UNDER_MEMBER_SQL } from '../store/retirementRules.js';

export interface RequeueRequest {
  /** Rows by outbox id; or every row of `status` when absent. */
  ids?: readonly number[];
  status: 'failed' | 'conflict';
  /** Who asked, for the audit trail: a supervisor's name. */
  supervisor: string;
  now?: () => Date;
}

/**
 * Puts matching rows back to `pending` in one transaction; returns their registration IDs. A row
 * withheld because its certificate was revoked (revokedEnrollment.ts) never goes back.
 */
export function requeueEnrollments(db: Database.Database, request: RequeueRequest): string[] {
  const audit = new AuditLog(db);
  const at = (request.now ?? (() => new Date()))();
  const select = db.prepare(
    `SELECT id, registration_id AS registrationId, last_error_code AS code FROM enrollments
     WHERE status = ? AND coalesce(last_error_code, '') != '${REVOKED_CODE}'
       ${request.ids ? 'AND id = ?' : ''} ORDER BY id`,
  );
  const update = db.prepare(
    `UPDATE enrollments SET status = 'pending', needs_reconcile = 1, next_attempt_at = NULL,
       last_error = NULL, last_error_code = NULL, dps_error = NULL, updated_at = ?
     WHERE id = ? AND status = ?`,
  );
  // Every bundle that carried the row counts it as answered: no receipt of theirs, however
  // late, puts back the answer the supervisor just acted on (station/bundle/bundleReceive.ts).
  const answered = db.prepare(`UPDATE bundle_enrollments SET answer_applied = 'requeued'
    WHERE enrollment_id = ? AND answer_applied IS NULL`);
  // A group member in conflict with another party's individual enrollment under its ID: the
  // station reads that record again (retirementRules.ts), on the line or in the next bundle.
  const recheck = db.prepare(RECHECK_UNDER_MEMBER_SQL);
  type Row = { id: number; registrationId: string; code: string | null };
  return db.transaction(() => {
    const rows: Row[] = request.ids
      ? request.ids.flatMap((id) => select.all(request.status, id) as Row[])
      : (select.all(request.status) as Row[]);
    for (const row of rows) {
      update.run(at.toISOString(), row.id, request.status);
      answered.run(row.id);
      recheck.run(row.id);
      audit.append({
        at,
        actor: `supervisor:${request.supervisor}`,
        kind: 'enrollment.requeued',
        subject: row.registrationId,
        detail: { enrollmentId: row.id, from: request.status, lastErrorCode: row.code },
      });
    }
    return rows.map((row) => row.registrationId);
  })();
}
