import type Database from 'better-sqlite3';
import type {
  IssuanceLedger,
  IssuanceRecord,
  IssuedCertificateSummary,
} from '../../certs/caSigner.js';
import { asStoreError, asStoreRead } from './storeError.js';

export type CertificateStatus = IssuedCertificateSummary['status'];
export type CertificateRow = IssuedCertificateSummary;

const columns = `serial_number AS serialNumber, registration_id AS registrationId, subject,
  fingerprint_sha256 AS fingerprintSha256, not_before AS notBefore, not_after AS notAfter, profile,
  key_source AS keySource, issued_at AS issuedAt, status, revoked_at AS revokedAt,
  revocation_reason AS revocationReason`;

/**
 * The newest certificates that pass `where`. Both keys descend, so the unfiltered list walks
 * `certificates_by_issued_at` (migration 009) backwards and stops at the limit, instead of
 * sorting every certificate the station ever issued.
 */
export function certificateListSql(where: readonly string[]): string {
  return `SELECT ${columns} FROM certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY issued_at DESC, serial_number DESC LIMIT ?`;
}

/** The CA's issuance ledger, kept in the station database. */
export class CertificateLedger implements IssuanceLedger {
  private readonly insert: Database.Statement;
  private readonly setStatus: Database.Statement;
  private readonly revokeStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO certificates
      (serial_number, registration_id, subject, fingerprint_sha256, not_before, not_after, profile,
       key_source, certificate_der, issued_at, issued_for)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.setStatus = db.prepare(
      `UPDATE certificates SET status = ? WHERE serial_number = ? AND status = 'issued'`,
    );
    this.revokeStmt = db.prepare(`UPDATE certificates
      SET status = 'revoked', revoked_at = ?, revocation_reason = ?
      WHERE serial_number = ? AND status != 'revoked'`);
  }

  /**
   * Records an issuance; false when the serial number (or fingerprint) was issued before. A
   * refusal of the database is a StoreError (STORE_WRITE_FAILED, STORE_BUSY…), never SQLite's
   * own text: the CA passes it on to the slot, which shows its message to the technician.
   */
  record(entry: IssuanceRecord): boolean {
    return asStoreError(`record certificate ${entry.serialNumber}`, () => this.insertRow(entry));
  }

  private insertRow(entry: IssuanceRecord): boolean {
    const result = this.insert.run(
      entry.serialNumber,
      entry.registrationId,
      entry.subject,
      entry.fingerprintSha256,
      entry.notBefore.toISOString(),
      entry.notAfter.toISOString(),
      entry.profile,
      entry.keySource,
      Buffer.from(entry.certificateDer),
      new Date().toISOString(),
      entry.issuedFor ?? null,
    );
    return result.changes === 1;
  }

  /** Records many issuances in one transaction (batch pre-issuance). */
  recordMany(entries: readonly IssuanceRecord[]): boolean[] {
    return asStoreError(`record ${entries.length} certificates`, () =>
      this.db.transaction(() => entries.map((e) => this.insertRow(e)))(),
    );
  }

  /** Marks an issued certificate `committed` (it is on a device) or `abandoned` (the run failed). */
  settle(serialNumber: string, status: 'committed' | 'abandoned'): boolean {
    return asStoreError(
      `settle certificate ${serialNumber}`,
      () => this.setStatus.run(status, serialNumber).changes === 1,
    );
  }

  revoke(serialNumber: string, reason: string, at = new Date()): boolean {
    return asStoreError(
      `revoke certificate ${serialNumber}`,
      () => this.revokeStmt.run(at.toISOString(), reason, serialNumber).changes === 1,
    );
  }

  get(serialNumber: string): CertificateRow | undefined {
    return asStoreRead(
      `read certificate ${serialNumber}`,
      () =>
        this.db
          .prepare(`SELECT ${columns} FROM certificates WHERE serial_number = ?`)
          .get(serialNumber) as CertificateRow | undefined,
    );
  }

  list(
    query: { registrationId?: string; status?: CertificateStatus; limit?: number } = {},
  ): CertificateRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.registrationId !== undefined) {
      where.push('registration_id = ?');
      params.push(query.registrationId);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    return this.db
      .prepare(certificateListSql(where))
      .all(...params, query.limit ?? 1000) as CertificateRow[];
  }

  /** The DER of an issued certificate, for export or re-installation. */
  certificateDer(serialNumber: string): Uint8Array | undefined {
    const row = this.db
      .prepare(`SELECT certificate_der AS der FROM certificates WHERE serial_number = ?`)
      .get(serialNumber) as { der: Buffer } | undefined;
    return row ? new Uint8Array(row.der) : undefined;
  }
}
