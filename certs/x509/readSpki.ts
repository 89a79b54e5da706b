import { DerCursor, DerProblem, isProblem, readWhole, type Tlv } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import {
  nullValue,
  octetAlignedBits,
  oidValue,
  positiveIntegerBits,
  rawOf,
  integerBytes,
} from '../der/derValues.js';
import { OID } from './oids.js';

/** What kind of key a SubjectPublicKeyInfo holds, as far as the profile checks need to know. */
export type PublicKeyDescription =
  | {
      kty: 'EC';
      /** The named curve, when it is one the station knows. */
      curve: 'P-256' | 'P-384' | undefined;
      /** The namedCurve OID; undefined for explicit or implicit curve parameters. */
      curveOid: string | undefined;
    }
  | {
      kty: 'RSA';
      bits: number;
      /** Whether the public exponent is odd and at least 65537 (e = 1 would let anyone forge). */
      exponentAllowed: boolean;
    }
  | { kty: 'unknown'; algorithmOid: string };

/** A SubjectPublicKeyInfo read in place. */
export interface SpkiReading {
  /**
   * The whole SubjectPublicKeyInfo element, as given. Leaves copy it as-is unless its EC point is
   * compressed (leaf/leafSpki.ts writes that one uncompressed).
   */
  raw: Uint8Array;
  /** Contents of the subjectPublicKey BIT STRING (the key bits, hashed for key identifiers). */
  subjectPublicKey: Uint8Array;
  key: PublicKeyDescription;
}

const CURVES: Record<string, 'P-256' | 'P-384'> = {
  [OID.secp256r1]: 'P-256',
  [OID.secp384r1]: 'P-384',
};

/** Reads SEQUENCE { AlgorithmIdentifier, BIT STRING } and describes the key. */
export function readSpki(buf: Uint8Array, spki: Tlv): SpkiReading | DerProblem {
  const fields = DerCursor.inside(buf, spki);
  if (isProblem(fields)) return fields;
  const algorithm = fields.next(TAG.SEQUENCE);
  if (isProblem(algorithm)) return algorithm;
  const bits = fields.next(TAG.BIT_STRING);
  if (isProblem(bits)) return bits;
  const extra = fields.finish();
  if (extra) return extra;
  const subjectPublicKey = octetAlignedBits(buf, bits);
  if (isProblem(subjectPublicKey)) return subjectPublicKey;

  const alg = new DerCursor(buf, algorithm.valueStart, algorithm.end);
  const algOidTlv = alg.next(TAG.OID);
  if (isProblem(algOidTlv)) return algOidTlv;
  const algorithmOid = oidValue(buf, algOidTlv);
  if (isProblem(algorithmOid)) return algorithmOid;
  const params = alg.done ? undefined : alg.nextAny();
  if (params && isProblem(params)) return params;
  const extraParam = alg.finish();
  if (extraParam) return extraParam;

  let key: PublicKeyDescription;
  if (algorithmOid === OID.ecPublicKey) {
    let curveOid: string | undefined;
    if (params?.tag === TAG.OID) {
      const named = oidValue(buf, params);
      if (isProblem(named)) return named;
      curveOid = named;
    }
    // RFC 5480 §2.2: uncompressed (04) or compressed (02, 03) points only; OpenSSL would also
    // take the hybrid forms (06, 07). A compressed point is accepted in a CSR but never copied:
    // the leaf gets the key uncompressed (leaf/leafSpki.ts).
    const form = subjectPublicKey[0];
    if (form !== 0x04 && form !== 0x02 && form !== 0x03) {
      return new DerProblem(`EC point form 0x${(form ?? 0).toString(16)} is not allowed`, 0);
    }
    key = { kty: 'EC', curveOid, curve: curveOid === undefined ? undefined : CURVES[curveOid] };
  } else if (algorithmOid === OID.rsaEncryption) {
    if (params) {
      const isNull = params.tag === TAG.NULL ? nullValue(params) : undefined;
      if (isNull !== null)
        return new DerProblem('rsaEncryption parameters must be NULL', params.start);
    }
    const rsa = readRsaPublicKey(subjectPublicKey);
    if (isProblem(rsa)) return rsa;
    key = { kty: 'RSA', ...rsa };
  } else {
    key = { kty: 'unknown', algorithmOid };
  }
  return { raw: rawOf(buf, spki), subjectPublicKey, key };
}

/**
 * Bit length of the modulus in an RSAPublicKey ::= SEQUENCE { modulus, publicExponent }, which
 * sits inside the BIT STRING: offsets in its problems count from the start of the key bits.
 */
function readRsaPublicKey(
  rsaPublicKey: Uint8Array,
): { bits: number; exponentAllowed: boolean } | DerProblem {
  const whole = readWhole(rsaPublicKey, TAG.SEQUENCE);
  if (isProblem(whole)) return whole;
  const fields = new DerCursor(rsaPublicKey, whole.valueStart, whole.end);
  const modulus = fields.next(TAG.INTEGER);
  if (isProblem(modulus)) return modulus;
  const exponent = fields.next(TAG.INTEGER);
  if (isProblem(exponent)) return exponent;
  const exponentBytes = integerBytes(rsaPublicKey, exponent);
  if (isProblem(exponentBytes)) return exponentBytes;
  const extra = fields.finish();
  if (extra) return extra;
  const bits = positiveIntegerBits(rsaPublicKey, modulus);
  if (isProblem(bits)) return bits;
  const e = BigInt(`0x${Buffer.from(exponentBytes).toString('hex')}`);
  const negative = (exponentBytes[0] ?? 0) >= 0x80;
  return { bits, exponentAllowed: !negative && e >= 65_537n && e % 2n === 1n };
}
