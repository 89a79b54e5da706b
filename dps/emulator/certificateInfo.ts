import { X509Certificate } from 'node:crypto';

/**
 * Certificates as enrollments carry them (PEM text or base64 DER, dps-protocol.md §4) and the
 * `info` block DPS fills in on responses (§1.7).
 */

/** `info` of an X.509 certificate reference, as the service fills it. */
export interface X509CertificateInfo {
  subjectName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  issuerName: string;
  notBeforeUtc: string;
  notAfterUtc: string;
  serialNumber: string;
  version: number;
}

/** Parses PEM (first certificate) or base64 DER; undefined when it is not a certificate. */
export function parseCertificateText(text: string): X509Certificate | undefined {
  try {
    if (text.includes('-----BEGIN')) return new X509Certificate(text);
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
    return new X509Certificate(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
}

/** Every certificate in a PEM bundle, in order; unreadable blocks are skipped. */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((block) => {
    const certificate = parseCertificateText(block);
    return certificate ? [certificate] : [];
  });
}

export function certificateInfo(certificate: X509Certificate): X509CertificateInfo {
  return {
    subjectName: distinguishedName(certificate.subject),
    sha1Thumbprint: thumbprint(certificate.fingerprint),
    sha256Thumbprint: thumbprint(certificate.fingerprint256),
    issuerName: distinguishedName(certificate.issuer),
    notBeforeUtc: new Date(certificate.validFrom).toISOString(),
    notAfterUtc: new Date(certificate.validTo).toISOString(),
    serialNumber: certificate.serialNumber.toUpperCase(),
    // Node does not expose the version field; every certificate DPS accepts is v3.
    version: 3,
  };
}

/** The subject's common name, if it has exactly one. */
export function commonName(certificate: X509Certificate): string | undefined {
  const names = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  return names.length === 1 ? names[0] : undefined;
}

/** True when both are the same certificate (same DER). */
export function sameCertificate(a: X509Certificate, b: X509Certificate): boolean {
  return a.fingerprint256 === b.fingerprint256;
}

/** True when `now` is inside the certificate's validity period. */
export function currentlyValid(certificate: X509Certificate, now = Date.now()): boolean {
  return now >= Date.parse(certificate.validFrom) && now <= Date.parse(certificate.validTo);
}

/** True when `issuer` issued `subject`: names and key usage match, and the signature verifies. */
export function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Node prints a DN one attribute a line; DPS shows it comma-separated. */
function distinguishedName(nodeForm: string): string {
  return nodeForm.split('\n').join(', ');
}

function thumbprint(colonHex: string): string {
  return colonHex.replace(/:/g, '').toUpperCase();
}
