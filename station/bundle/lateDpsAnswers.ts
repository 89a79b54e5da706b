import type Database from 'better-sqlite3';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { MEMBER_ATTESTATION, RETIRE_AGAIN_SQL } from '../store/retirementRules.js';
import { RetirementStore } from '../sync/retirementStore.js';
import type { ReceiptResult } from './bundlePayload.js';

/**
 * A receipt's answer that DPS holds an enrollment this station had superseded and retired since
 * the bundle left: the bundle was synced late (declared lost and found again, or an old bundle
 * run a second time). The row's retirement is due again, so the next sync (or bundle) disables or
 * deletes it once more; a group member's synced row under its ID is read from DPS again, and
 * waits for that deletion (batchSync.ts). A live individual row under the ID (the device
 * re-provisioned under it, same credential) is read from DPS again too: the late write may have
 * put the earlier settings over it. Each is one audit event, in the receiver's name.
 */
export class LateDpsAnswers {
  private readonly retireAgain: Database.Statement;
  private readonly isDue: Database.Statement;
  private readonly memberWaits: Database.Statement;
  private readonly audit: AuditLog;
  private readonly retirements: RetirementStore;
  private readonly disableAgain: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly now: Date,
    private readonly actor: AuditActor,
  ) {
    this.retireAgain = db.prepare(RETIRE_AGAIN_SQL);
    this.isDue = db
      .prepare(`SELECT EXISTS (SELECT 1 FROM enrollments WHERE id = ? AND retirement = 'due')`)
      .pluck();
    // As `queue list` shows a member the receive held back (bundleReceive.ts). A member held
    // back for another reason keeps it: the deletion's settlement would otherwise cut that wait
    // (retirementStore.ts releases this code), and the worker codes the member so itself when it
    // next meets it with the deletion still due (batchSync.ts).
    this.memberWaits = db.prepare(`UPDATE enrollments
      SET last_error_code = 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST', last_error = ?
      WHERE registration_id = ? AND status = 'pending' AND attestation = ${MEMBER_ATTESTATION}
        AND coalesce(last_error_code, 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST')
          = 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST'`);
    this.audit = new AuditLog(db);
    this.retirements = new RetirementStore(db, () => now.getTime(), actor);
    // A row of a revoked certificate (any status: withheld, synced, superseded): its disable in
    // DPS is due again, or due at last for one withheld as never sent (migration 022).
    this.disableAgain = db.prepare(`INSERT INTO revocation_disables
        (enrollment_id, certificate_serial, created_at)
      SELECT e.id, r.certificate_serial, ? FROM enrollments e JOIN runs r ON r.id = e.run_id
        JOIN certificates c ON c.serial_number = r.certificate_serial
      WHERE e.id = ? AND c.status = 'revoked'
      ON CONFLICT (enrollment_id) DO UPDATE SET state = 'due', settled_at = NULL,
        retry_after = NULL, note = NULL WHERE state != 'due'`);
  }

  /**
   * Applies `result` for row `id` if its certificate was revoked: DPS holds it again (the bundle
   * was synced late: declared lost and found, or run a second time), so its disable is due
   * again. True when it was not due already.
   */
  revoked(id: number, result: ReceiptResult, bundleId: string): boolean {
    if (result.outcome !== 'synced' || !IN_DPS.has(result.how)) return false;
    if (this.disableAgain.run(this.now.toISOString(), id).changes !== 1) return false;
    this.audit.append({
      at: this.now,
      actor: this.actor,
      kind: 'enrollment.revocation-disable-due-again',
      subject: result.registrationId,
      detail: { enrollmentId: id, bundleId, how: result.how },
    });
    return true;
  }

  /** Applies `result` for superseded row `id`; true when its retirement is due again. */
  superseded(id: number, result: ReceiptResult, bundleId: string): boolean {
    if (result.outcome !== 'synced' || !IN_DPS.has(result.how)) return false;
    const registrationId = result.registrationId.toLowerCase();
    const again = this.retireAgain.run(id).changes === 1;
    if (again) {
      this.audit.append({
        at: this.now,
        actor: this.actor,
        kind: 'enrollment.retirement-due-again',
        subject: result.registrationId,
        detail: { enrollmentId: id, bundleId, how: result.how },
      });
    }
    if (this.isDue.get(id) === 1) {
      // Due, again or still: a group member taken as synced under its ID is blocked by it, and
      // waits, saying why, until it is deleted.
      this.retirements.reopenLive(registrationId, MEMBER_BLOCKED);
      this.memberWaits.run(MEMBER_BLOCKED, registrationId);
    } else {
      // A live individual enrollment has the ID: the late write may have put the earlier one's
      // settings (or credential) over it in DPS. Read from DPS again, it is rewritten if so.
      this.retirements.reopenLive(registrationId, EARLIER_WRITTEN);
    }
    return again;
  }
}

/** A receipt's ways of saying DPS holds the row's own enrollment, enabled. */
const IN_DPS: ReadonlySet<string> = new Set(['created', 'found', 'replaced']);

const MEMBER_BLOCKED =
  'a bundle synced late put an earlier individual enrollment under this ID in DPS: read from DPS again once that enrollment is deleted';
const EARLIER_WRITTEN =
  'a bundle synced late wrote an earlier enrollment of this device to DPS: read from DPS again, and rewritten if DPS holds that one';
