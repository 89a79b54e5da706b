import { bitString, integerFromBytes, nullElement, oid, sequence } from '../der/derWriter.js';
import { OID } from '../x509/oids.js';
import type { NistCurve } from './tpmAlgorithms.js';

/**
 * An EK public key as the DER SubjectPublicKeyInfo a certificate for it holds, so the key in
 * an EK certificate can be compared with the key the TPM reported byte for byte. The encodings
 * are the ones RFC 3279 / RFC 5480 fix and TPM vendors use: rsaEncryption with NULL parameters
 * around RSAPublicKey, and id-ecPublicKey with the named curve around an uncompressed point.
 */

const RSA_ALGORITHM = sequence(oid(OID.rsaEncryption), nullElement());

/** 65537: what a TPM means by an exponent of 0 (Part 2, TPMS_RSA_PARMS). */
export const DEFAULT_RSA_EXPONENT = Uint8Array.of(0x01, 0x00, 0x01);

/** rsaEncryption SPKI for a modulus (big-endian, as the TPM gives it) and exponent. */
export function rsaSpki(modulus: Uint8Array, exponent: Uint8Array): Buffer {
  const rsaPublicKey = sequence(integerFromBytes(modulus), integerFromBytes(exponent));
  return sequence(RSA_ALGORITHM, bitString(rsaPublicKey));
}

/**
 * id-ecPublicKey SPKI for the point (x, y). A TPM2B_ECC_PARAMETER may drop leading zero bytes,
 * while the uncompressed point of SEC 1 has both coordinates at the full curve size, so each is
 * left-padded; a coordinate longer than the curve size is the caller's to refuse first.
 */
export function eccSpki(curve: NistCurve, x: Uint8Array, y: Uint8Array): Buffer {
  const point = new Uint8Array(1 + 2 * curve.bytes);
  point[0] = 0x04;
  point.set(x, 1 + curve.bytes - x.length);
  point.set(y, 1 + 2 * curve.bytes - y.length);
  return sequence(sequence(oid(OID.ecPublicKey), oid(curve.oid)), bitString(point));
}
