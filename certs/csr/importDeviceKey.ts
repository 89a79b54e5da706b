import { createPublicKey, KeyObject, webcrypto, type JsonWebKey } from 'node:crypto';
import { DerCursor, isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { valueOf } from '../der/derValues.js';
import type { SpkiReading } from '../x509/readSpki.js';

/**
 * Turns a device's SubjectPublicKeyInfo into a node:crypto KeyObject, by the cheapest route
 * Node 20 offers for each key type. This is on the hot path: every CSR brings a new key.
 *
 * Measured with Node 20 / OpenSSL 3.0 (µs per key): `createPublicKey` from DER goes through
 * OpenSSL's generic decoder and costs ~95 whatever the key; from JWK an RSA key costs ~3, but
 * an EC key ~50 (OpenSSL re-checks the point with a full scalar multiplication); WebCrypto's
 * `importKey('raw')` for an EC point costs ~45, of which ~18 is WebIDL argument handling. An
 * ECDSA verify itself is ~50, so the route decides whether issuance runs near the signing cost.
 *
 * The raw EC import still decodes the point with EC_POINT_oct2point, which refuses points off
 * the curve; P-256 and P-384 have cofactor 1, so that is the whole public-key validation needed.
 * Only the curves the profile checks allow reach this function.
 */
export function importDeviceKey(spki: SpkiReading): Promise<KeyObject> {
  const key = spki.key;
  if (key.kty === 'EC' && key.curve !== undefined) {
    return webcrypto.subtle
      .importKey(
        'raw',
        spki.subjectPublicKey,
        key.curve === 'P-256' ? ECDSA_P256 : ECDSA_P384,
        true,
        ['verify'],
      )
      .then(KeyObject.from);
  }
  try {
    const jwk = key.kty === 'RSA' ? rsaJwk(spki.subjectPublicKey) : undefined;
    if (jwk) return Promise.resolve(createPublicKey({ key: jwk, format: 'jwk' }));
    const raw = spki.raw;
    return Promise.resolve(
      createPublicKey({
        key: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
        format: 'der',
        type: 'spki',
      }),
    );
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

/** RSAPublicKey ::= SEQUENCE { modulus, publicExponent } as a JWK; undefined if unreadable. */
function rsaJwk(rsaPublicKey: Uint8Array): JsonWebKey | undefined {
  const whole = readWhole(rsaPublicKey, TAG.SEQUENCE);
  if (isProblem(whole)) return undefined;
  const fields = new DerCursor(rsaPublicKey, whole.valueStart, whole.end);
  const n = fields.next(TAG.INTEGER);
  const e = isProblem(n) ? n : fields.next(TAG.INTEGER);
  if (isProblem(n) || isProblem(e)) return undefined;
  return {
    kty: 'RSA',
    n: unsignedBase64url(valueOf(rsaPublicKey, n)),
    e: unsignedBase64url(valueOf(rsaPublicKey, e)),
  };
}

/** JWK integers are unsigned big-endian: drop the sign byte DER adds before a high bit. */
function unsignedBase64url(integer: Uint8Array): string {
  const magnitude = integer.length > 1 && integer[0] === 0 ? integer.subarray(1) : integer;
  return Buffer.from(magnitude.buffer, magnitude.byteOffset, magnitude.byteLength).toString(
    'base64url',
  );
}
