import { createPublicKey } from 'node:crypto';
import { CertError } from '../certErrors.js';
import { isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { readSpki } from '../x509/readSpki.js';

/**
 * The SubjectPublicKeyInfo a leaf carries for the device key `spki`: as given, except that an EC
 * key in the compressed form (02/03, which a CSR may use: RFC 5480 §2.2) is written uncompressed
 * (04). Many TLS stacks and DPS clients refuse a certificate with a compressed key, and the
 * device would only learn that when it connects. Anything else is returned untouched; the
 * template refuses what is not DER.
 */
export function leafSpki(spki: Uint8Array): Uint8Array {
  const whole = readWhole(spki, TAG.SEQUENCE);
  if (isProblem(whole)) return spki;
  const reading = readSpki(spki, whole);
  if (isProblem(reading) || reading.key.kty !== 'EC') return spki;
  const form = reading.subjectPublicKey[0];
  if (form !== 0x02 && form !== 0x03) return spki;
  try {
    // Through JWK: OpenSSL 3 keeps the point form a DER key was read in, so a DER-to-DER export
    // would stay compressed; a key built from x and y is written uncompressed.
    const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
    const jwk = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertError(
      'CSR_MALFORMED',
      'the compressed EC point of the device key is not on its curve',
      {
        cause: err,
      },
    );
  }
}
