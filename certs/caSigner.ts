/**
 * The CA's private key as the issuer sees it: something that signs. In software it wraps a
 * node:crypto KeyObject unlocked from the sealed key file; a PKCS#11 token (HSM) implements the
 * same interface without the key ever entering the station's memory.
 */
export interface CaSigner {
  /** Signature algorithm of the certificates this signer issues. */
  readonly algorithm: CaSignatureAlgorithm;
  /** SubjectPublicKeyInfo (DER) of the signing key. */
  readonly publicKeySpki: Uint8Array;
  /** Signs `data` (a TBSCertificate); DER ECDSA-Sig-Value or PKCS#1 v1.5 for RSA. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type CaSignatureAlgorithm =
  'ecdsa-with-SHA256' | 'ecdsa-with-SHA384' | 'sha256WithRSAEncryption';

/** One issued certificate, as reported to the store (which implements IssuanceLedger). */
export interface IssuanceRecord {
  /** Hex, lower case, no leading zero byte beyond what DER requires. */
  serialNumber: string;
  subject: string;
  registrationId: string;
  /** SHA-256 of the certificate DER, hex. */
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  profile: string;
  /** Whether the key was made by the device (CSR) or by the station. */
  keySource: 'device' | 'station';
  certificateDer: Uint8Array;
  /**
   * What the caller issued it for, in the caller's own terms (the station: the run that will
   * install it), so a certificate whose run never ended can be found and settled later.
   */
  issuedFor?: string;
}

/** An issued certificate as a supervisor lists it: what identifies it, not the DER. */
export interface IssuedCertificateSummary {
  serialNumber: string;
  registrationId: string;
  subject: string;
  fingerprintSha256: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  profile: string;
  keySource: 'device' | 'station';
  issuedAt: string;
  /** `issued` until the run settles it: `committed` (on a device), `abandoned`, or `revoked`. */
  status: 'issued' | 'committed' | 'abandoned' | 'revoked';
  revokedAt: string | null;
  revocationReason: string | null;
}

/**
 * Where issuances are reported and looked up. The station's SQLite store implements it; the
 * CA keeps no history of its own.
 */
export interface IssuanceLedger {
  /** Refuses (returns false) when the serial number was issued before. */
  record(entry: IssuanceRecord): boolean | Promise<boolean>;
  list(query?: {
    registrationId?: string;
    limit?: number;
  }): IssuedCertificateSummary[] | Promise<IssuedCertificateSummary[]>;
  /** False when no such certificate exists or it is already revoked. */
  revoke(serialNumber: string, reason: string): boolean | Promise<boolean>;
}
