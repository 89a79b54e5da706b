import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { CHALLENGE_PREFIX, type Curve } from '../codec/messages.js';
import type { IdentityKey } from './deviceBanks.js';
import { generateKeyAndCsrDer } from './deviceCsr.js';

/**
 * The cryptography a device's secure element does: key generation with a self-signed PKCS#10
 * request, key import, and the challenge signatures of PROTOCOL.md §4.9. Real algorithms, so
 * the station verifies simulator output exactly as it verifies hardware.
 *
 * All of it runs on node:crypto (OpenSSL), as cheap as a bench of dozens of devices needs.
 */
export const SUPPORTED_CURVES: readonly Curve[] = ['P-256', 'P-384'];

/** The hash PROTOCOL.md pairs with each curve, for CSRs and challenges alike. */
const hashOf: Record<Curve, 'SHA-256' | 'SHA-384'> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384' };
const nodeCurveName: Record<Curve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };

export function isSupportedCurve(name: string): name is Curve {
  return (SUPPORTED_CURVES as readonly string[]).includes(name);
}

/** Generates a key pair and a CSR `CN=<commonName>` signed with it, with no extensions. */
export async function generateKeyAndCsr(
  curve: Curve,
  commonName: string,
): Promise<{ key: IdentityKey; csr: Uint8Array }> {
  const { pkcs8, csr } = generateKeyAndCsrDer(curve, commonName);
  return { key: { curve, pkcs8 }, csr };
}

/** Imports an injected PKCS#8 key, or says why it cannot: not PKCS#8, or not EC on `curve`. */
export function importPkcs8(
  curve: Curve,
  der: Uint8Array,
): IdentityKey | 'unreadable' | 'wrong-curve' {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch {
    return 'unreadable';
  }
  if (
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== nodeCurveName[curve]
  ) {
    return 'wrong-curve';
  }
  return { curve, pkcs8: new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })) };
}

/** Parses a DER certificate; null when it is not one. */
export function parseCertificate(der: Uint8Array): X509Certificate | null {
  try {
    return new X509Certificate(der);
  } catch {
    return null;
  }
}

/**
 * True when the certificate certifies `key`. Both SubjectPublicKeyInfos go through the same
 * parser and encoder, so equivalent encodings of the same key compare equal.
 */
export function certificateMatchesKey(cert: X509Certificate, key: IdentityKey): boolean {
  try {
    const fromCert = cert.publicKey.export({ type: 'spki', format: 'der' });
    const fromKey = createPublicKey(privateKeyObject(key)).export({ type: 'spki', format: 'der' });
    return fromCert.equals(fromKey);
  } catch {
    return false;
  }
}

/** The exact bytes a challenge signature covers: "LSCHAL1\0" ‖ nonce. */
export function challengeMessage(nonce: Uint8Array): Uint8Array {
  const message = new Uint8Array(CHALLENGE_PREFIX.length + nonce.length);
  message.set(CHALLENGE_PREFIX, 0);
  message.set(nonce, CHALLENGE_PREFIX.length);
  return message;
}

/** Kind 1: ECDSA, DER ECDSA-Sig-Value, SHA-256 on P-256 and SHA-384 on P-384. */
export function signChallengeEcdsa(key: IdentityKey, nonce: Uint8Array): Uint8Array {
  const hash = hashOf[key.curve].replace('-', '').toLowerCase();
  return new Uint8Array(
    sign(hash, challengeMessage(nonce), { key: privateKeyObject(key), dsaEncoding: 'der' }),
  );
}

/** Kind 2: HMAC-SHA256 with the symmetric key. */
export function signChallengeHmac(symmetricKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHmac('sha256', symmetricKey).update(challengeMessage(nonce)).digest(),
  );
}

function privateKeyObject(key: IdentityKey): KeyObject {
  return createPrivateKey({ key: Buffer.from(key.pkcs8), format: 'der', type: 'pkcs8' });
}
