import { createHash } from 'node:crypto';
import type { AttestationMechanism } from '../../dps/service/serviceTypes.js';

/**
 * What identifies the credential of an enrollment, as digests (lower-case hex), so that the
 * station can tell "DPS holds our enrollment" from "DPS holds someone else's" without keeping or
 * comparing key material in clear:
 * - x509: the primary client certificate (DER); DPS may echo the certificate or only its
 *   thumbprints in `info`, so both SHA-256 and SHA-1 are kept.
 * - tpm: the endorsement key (TPM2B_PUBLIC bytes).
 * - symmetricKey: the primary key bytes.
 */
export interface CredentialFingerprint {
  kind: AttestationMechanism['type'];
  sha256?: string;
  sha1?: string;
}

const digest = (algorithm: 'sha256' | 'sha1', bytes: Uint8Array): string =>
  createHash(algorithm).update(bytes).digest('hex');

/** SHA-256 (and SHA-1 for certificates) of raw credential bytes. */
export function fingerprintOfBytes(
  kind: CredentialFingerprint['kind'],
  bytes: Uint8Array,
): CredentialFingerprint {
  return kind === 'x509'
    ? { kind, sha256: digest('sha256', bytes), sha1: digest('sha1', bytes) }
    : { kind, sha256: digest('sha256', bytes) };
}

/** The DER of the first certificate of a PEM text, or of a bare base64 DER string. */
export function certificateDer(text: string): Buffer {
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  return Buffer.from((pem ? pem[1]! : text).replace(/\s+/g, ''), 'base64');
}

const thumbprint = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0
    ? value.replace(/[:\s]/g, '').toLowerCase()
    : undefined;

/**
 * The fingerprint of an attestation mechanism (ours or DPS's), or undefined when it withholds
 * the credential (DPS does not return symmetric keys on GET; the caller then reads the
 * attestation mechanism). An attestation of a kind the station never sends (signing
 * certificates, CA references, `none`) gets a fingerprint without digests: it matches nothing.
 */
export function fingerprintOf(
  attestation: AttestationMechanism | undefined,
): CredentialFingerprint | undefined {
  if (attestation === undefined) return undefined;
  const { type } = attestation;
  if (type === 'x509') {
    const primary = attestation.x509?.clientCertificates?.primary;
    if (primary === undefined) return attestation.x509 ? { kind: type } : undefined;
    if (typeof primary.certificate === 'string' && primary.certificate.length > 0) {
      return fingerprintOfBytes(type, certificateDer(primary.certificate));
    }
    const sha256 = thumbprint(primary.info?.sha256Thumbprint);
    const sha1 = thumbprint(primary.info?.sha1Thumbprint);
    if (sha256 === undefined && sha1 === undefined) return undefined;
    return { kind: type, ...(sha256 && { sha256 }), ...(sha1 && { sha1 }) };
  }
  if (type === 'tpm') {
    const ek = attestation.tpm?.endorsementKey;
    return ek ? fingerprintOfBytes(type, Buffer.from(ek, 'base64')) : undefined;
  }
  if (type === 'symmetricKey') {
    const key = attestation.symmetricKey?.primaryKey;
    if (!key) return undefined;
    const bytes = Buffer.from(key, 'base64');
    try {
      return fingerprintOfBytes(type, bytes);
    } finally {
      bytes.fill(0);
    }
  }
  return { kind: type };
}

/**
 * True when both name the same credential: same kind, and equal on every digest both have (at
 * least one). Unknown is not "same": a fingerprint without digests matches nothing.
 */
export function sameCredential(a: CredentialFingerprint, b: CredentialFingerprint): boolean {
  if (a.kind !== b.kind) return false;
  const shared = (['sha256', 'sha1'] as const).filter(
    (alg) => a[alg] !== undefined && b[alg] !== undefined,
  );
  return shared.length > 0 && shared.every((alg) => a[alg] === b[alg]);
}
