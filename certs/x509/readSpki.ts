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
  | { kty: 'RSA'; bits: number }
  | { kty: 'unknown'; algorithmOid: string };

/** A SubjectPublicKeyInfo read in place. */
export interface SpkiReading {
  /** The whole SubjectPublicKeyInfo element, as given (copied into certificates as-is). */
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
    key = { kty: 'EC', curveOid, curve: curveOid === undefined ? undefined : CURVES[curveOid] };
  } else if (algorithmOid === OID.rsaEncryption) {
    if (params) {
      const isNull = params.tag === TAG.NULL ? nullValue(params) : undefined;
      if (isNull !== null)
        return new DerProblem('rsaEncryption parameters must be NULL', params.start);
    }
    const modulusBits = rsaModulusBits(subjectPublicKey);
    if (isProblem(modulusBits)) return modulusBits;
    key = { kty: 'RSA', bits: modulusBits };
  } else {
    key = { kty: 'unknown', algorithmOid };
  }
  return { raw: rawOf(buf, spki), subjectPublicKey, key };
}

/**
 * Bit length of the modulus in an RSAPublicKey ::= SEQUENCE { modulus, publicExponent }, which
 * sits inside the BIT STRING: offsets in its problems count from the start of the key bits.
 */
function rsaModulusBits(rsaPublicKey: Uint8Array): number | DerProblem {
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
  return positiveIntegerBits(rsaPublicKey, modulus);
}
