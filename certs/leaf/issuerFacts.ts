import { CertError } from '../certErrors.js';
import { isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { valueOf } from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { readCertificate } from '../x509/readCertificate.js';
import type { PublicKeyDescription } from '../x509/readSpki.js';
import { keyIdentifier } from './leafExtensions.js';

/** The issuing CA as a leaf template sees it. */
export interface IssuerFacts {
  /** The issuing CA's subject Name, raw: it becomes each leaf's issuer byte for byte. */
  subject: Uint8Array;
  /** The issuing CA's SubjectPublicKeyInfo, raw (the signer must hold its private key). */
  spki: Uint8Array;
  /** Its SubjectKeyIdentifier, or SHA-1 of its key bits when the certificate has none. */
  keyIdentifier: Uint8Array;
  /** The issuing CA's key type: it decides which signature algorithms a template may use. */
  key: PublicKeyDescription;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Reads what a template needs from the issuing CA certificate, with the strict DER reader. A
 * certificate it cannot read is refused as CA_CERTIFICATE_NOT_DER, naming the part: node:crypto
 * and @peculiar/x509 accept slips this reader refuses (an explicit `critical FALSE`, a
 * GeneralizedTime before 2050...), so validateIssuingCa runs this too, at import and at unlock,
 * rather than let every device fail. The CA store checks the chain; this only extracts bytes,
 * and copies them so the template keeps no view of the caller's buffer.
 *
 * The slips stay refused, though the leaf copies only the subject and SKI: the CA certificate
 * also goes to every device and to DPS in the chain, where a stricter parser may reject it
 * after the device has left the line.
 */
export function readIssuerFacts(certificateDer: Uint8Array): IssuerFacts {
  const cert = readCertificate(certificateDer);
  if (isProblem(cert)) {
    throw new CertError('CA_CERTIFICATE_NOT_DER', `issuing CA certificate: ${cert.toString()}`);
  }
  const ski = cert.extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  let keyId: Uint8Array | undefined;
  if (ski) {
    const inner = readWhole(ski.value, TAG.OCTET_STRING);
    if (isProblem(inner)) {
      throw new CertError('CA_CERTIFICATE_NOT_DER', `issuing CA SKI: ${inner.toString()}`);
    }
    keyId = valueOf(ski.value, inner);
  }
  return {
    subject: Uint8Array.from(cert.subject),
    spki: Uint8Array.from(cert.spki.raw),
    keyIdentifier: Uint8Array.from(keyId ?? keyIdentifier(cert.spki.subjectPublicKey)),
    key: cert.spki.key,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
