import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { CaSignatureAlgorithm, CaSigner } from './caSigner.js';
import { CertError } from './certErrors.js';

const HASH: Record<CaSignatureAlgorithm, 'sha256' | 'sha384'> = {
  'ecdsa-with-SHA256': 'sha256',
  'ecdsa-with-SHA384': 'sha384',
  sha256WithRSAEncryption: 'sha256',
};

/**
 * A CaSigner over a node:crypto private KeyObject (the CA key once custody has unlocked it).
 * It signs synchronously inside: a P-256 signature takes tens of microseconds, far less than a
 * trip through the thread pool would add, so the promise is already settled when returned.
 *
 * The algorithm follows from the key: ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384
 * (RFC 5480 pairs the hash with the curve size), sha256WithRSAEncryption (PKCS#1 v1.5) for RSA.
 */
export class SoftwareCaSigner implements CaSigner {
  readonly algorithm: CaSignatureAlgorithm;
  readonly publicKeySpki: Uint8Array;
  private readonly hash: 'sha256' | 'sha384';

  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.type !== 'private') {
      throw new CertError('CA_KEY_UNSUPPORTED', 'a CA signer needs a private key');
    }
    this.algorithm = algorithmFor(privateKey);
    this.hash = HASH[this.algorithm];
    this.publicKeySpki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  }

  /** DER ECDSA-Sig-Value, or the PKCS#1 v1.5 signature, over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(sign(this.hash, data, { key: this.privateKey, dsaEncoding: 'der' }));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function algorithmFor(key: KeyObject): CaSignatureAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ecdsa-with-SHA256';
    if (details?.namedCurve === 'secp384r1') return 'ecdsa-with-SHA384';
  } else if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) {
    return 'sha256WithRSAEncryption';
  }
  throw new CertError(
    'CA_KEY_UNSUPPORTED',
    `${key.asymmetricKeyType ?? 'unknown'} ${details?.namedCurve ?? details?.modulusLength ?? ''}`.trim(),
  );
}
