import type Database from 'better-sqlite3';
import type { IssuanceRecord } from '../../certs/caSigner.js';
import { AuditLog, type AuditActor } from './auditLog.js';
import { CertificateLedger } from './certificateLedger.js';
import { RevokedEnrollments, type RevokedEnrollment } from './revokedEnrollment.js';
import { asStoreError } from './storeError.js';

/**
 * The ledger of a supervisor's `ca issue` or `ca revoke`: each certificate issued or revoked
 * by hand is written in one transaction with its audit event, so the trail neither misses one nor
 * shows one that did not happen. Secrets never reach the detail: the certificate's fingerprint
 * and serial number identify it.
 */
export class SupervisedLedger extends CertificateLedger {
  private readonly audit: AuditLog;
  private readonly revokedEnrollments: RevokedEnrollments;
  /** The outbox row that carries the certificate revoked last, if any, and what became of it. */
  revokedEnrollment: RevokedEnrollment | undefined;

  constructor(
    private readonly database: Database.Database,
    private readonly actor: AuditActor,
    private readonly context: Record<string, string>,
  ) {
    super(database);
    this.audit = new AuditLog(database);
    this.revokedEnrollments = new RevokedEnrollments(database);
  }

  override record(entry: IssuanceRecord): boolean {
    // The transaction's own BEGIN and COMMIT may be refused too (a lock, a full disk).
    return asStoreError(`record certificate ${entry.serialNumber}`, () =>
      this.recordAudited(entry),
    );
  }

  override revoke(serialNumber: string, reason: string, at = new Date()): boolean {
    return asStoreError(`revoke certificate ${serialNumber}`, () =>
      this.revokeAudited(serialNumber, reason, at),
    );
  }

  /**
   * The certificate issued last was not saved where its issue event says (`ca issue --out` could
   * not write the file; the PEM went to standard output): the trail says so after that event,
   * since an audit event is never changed.
   */
  notSaved(issued: { serialNumber: string; registrationId: string }, reason: string): void {
    asStoreError(`record that certificate ${issued.serialNumber} was not saved`, () =>
      this.audit.append({
        at: new Date(),
        actor: this.actor,
        kind: 'certificate.not-saved',
        subject: issued.registrationId,
        detail: {
          serialNumber: issued.serialNumber,
          reason,
          printedInstead: true,
          ...this.context,
        },
      }),
    );
  }

  private recordAudited(entry: IssuanceRecord): boolean {
    return this.database.transaction(() => {
      const fresh = super.record(entry);
      if (fresh) {
        this.audit.append({
          at: new Date(),
          actor: this.actor,
          kind: 'certificate.issued-by-hand',
          subject: entry.registrationId,
          detail: {
            serialNumber: entry.serialNumber,
            fingerprintSha256: entry.fingerprintSha256,
            notAfter: entry.notAfter.toISOString(),
            profile: entry.profile,
            ...this.context,
          },
        });
      }
      return fresh;
    })();
  }

  private revokeAudited(serialNumber: string, reason: string, at: Date): boolean {
    return this.database.transaction(() => {
      const before = this.get(serialNumber);
      if (before === undefined || !super.revoke(serialNumber, reason, at)) return false;
      // In the same transaction: no sync may send the enrollment between the two.
      this.revokedEnrollment = this.revokedEnrollments.apply(serialNumber, reason, at);
      this.audit.append({
        at,
        actor: this.actor,
        kind: 'certificate.revoked',
        subject: before.registrationId,
        detail: {
          serialNumber,
          reason,
          fingerprintSha256: before.fingerprintSha256,
          statusBefore: before.status,
          enrollment: this.revokedEnrollment ?? null,
          crlPublished: false,
        },
      });
      return true;
    })();
  }
}
