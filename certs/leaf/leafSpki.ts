import { createPublicKey } from 'node:crypto';
import { CertError } from '../certErrors.js';
import { isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { readSpki, type SpkiReading } from '../x509/readSpki.js';

/**
 * The SubjectPublicKeyInfo a leaf carries for the device key `spki`, as checkCsr read it: as
 * given, except that an EC key in the compressed form (02/03, which a CSR may use: RFC 5480 §2.2)
 * is written uncompressed (04). Many TLS stacks and DPS clients refuse a certificate with a
 * compressed key, and the device would only learn that when it connects. Called where a CSR's
 * key is taken, not per leaf: a station-made key is never compressed.
 */
export function leafSpki(spki: SpkiReading): Uint8Array {
  const form = spki.subjectPublicKey[0];
  if (spki.key.kty !== 'EC' || (form !== 0x02 && form !== 0x03)) return spki.raw;
  try {
    // Through JWK: OpenSSL 3 keeps the point form a DER key was read in, so a DER-to-DER export
    // would stay compressed; a key built from x and y is written uncompressed.
    const der = Buffer.from(spki.raw.buffer, spki.raw.byteOffset, spki.raw.byteLength);
    const jwk = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertError(
      'CSR_MALFORMED',
      'the compressed EC point of the device key is not on its curve',
      { cause: err },
    );
  }
}

/**
 * leafSpki for SubjectPublicKeyInfo DER not read yet (the reference issuer); DER it cannot read
 * is returned as it came.
 */
export function leafSpkiOfDer(der: Uint8Array): Uint8Array {
  const whole = readWhole(der, TAG.SEQUENCE);
  if (isProblem(whole)) return der;
  const reading = readSpki(der, whole);
  return isProblem(reading) ? der : leafSpki(reading);
}
