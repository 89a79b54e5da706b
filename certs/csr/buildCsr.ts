import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  explicit,
  nullElement,
  oid,
  sequence,
  set,
  smallInteger,
  utf8String,
} from '../der/derWriter.js';
import { OID } from '../x509/oids.js';

/** How a CSR is made; everything but the key has a default. */
export interface CsrBuildOptions {
  /** Signs the request and provides its SubjectPublicKeyInfo. */
  privateKey: KeyObject;
  /** Subject as `CN=<commonName>` (UTF8String); ignored when `subject` is given. */
  commonName?: string;
  /** A ready-made subject Name element. */
  subject?: Uint8Array;
  /** Extension elements to ask for in an extensionRequest attribute. */
  requestedExtensions?: Uint8Array[];
  /** For EC keys: the ECDSA hash (default sha256). */
  hash?: 'sha256' | 'sha384';
  /** A SubjectPublicKeyInfo in place of the key's own: tests encode the same key unusually. */
  spki?: Uint8Array;
}

const CN_TYPE = oid(OID.commonName);

/** The Name `CN=<commonName>`, the CN as a UTF8String. */
export function commonNameSubject(commonName: string): Buffer {
  return sequence(set(sequence(CN_TYPE, utf8String(commonName))));
}

/**
 * Builds and signs a PKCS#10 request with the station's DER writer. The station uses it for keys
 * it makes itself; tests and benchmarks use it to make device requests without a device.
 * EC keys sign with ecdsa-with-SHA256/384, RSA with sha256WithRSAEncryption, Ed25519 with
 * id-Ed25519 (which the station's checks refuse, and tests need exactly for that).
 */
export function buildCsr(options: CsrBuildOptions): Buffer {
  const key = options.privateKey;
  const spki = options.spki ?? createPublicKey(key).export({ format: 'der', type: 'spki' });
  const subject = options.subject ?? commonNameSubject(options.commonName ?? '');
  const attributes = options.requestedExtensions?.length
    ? [sequence(oid(OID.extensionRequest), set(sequence(...options.requestedExtensions)))]
    : [];
  const info = sequence(smallInteger(0), subject, spki, explicit(0, ...attributes));
  const { algorithm, hash } = signatureFor(key, options.hash ?? 'sha256');
  const signature = sign(hash, info, { key, dsaEncoding: 'der' });
  return sequence(info, algorithm, bitString(signature));
}

function signatureFor(
  key: KeyObject,
  hash: 'sha256' | 'sha384',
): { algorithm: Buffer; hash: 'sha256' | 'sha384' | null } {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return {
        algorithm: sequence(oid(hash === 'sha384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha256)),
        hash,
      };
    case 'rsa':
      return {
        algorithm: sequence(oid(OID.sha256WithRsaEncryption), nullElement()),
        hash: 'sha256',
      };
    case 'ed25519':
      return { algorithm: sequence(oid(OID.ed25519)), hash: null };
    default:
      throw new Error(`buildCsr: unsupported key type ${key.asymmetricKeyType ?? '(none)'}`);
  }
}
