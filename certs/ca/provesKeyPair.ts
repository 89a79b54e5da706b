import {
  X509Certificate as NodeCertificate,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/** The hash the station signs with for this key: SHA-384 on P-384 (RFC 5480), SHA-256 else. */
function hashFor(key: KeyObject): 'sha256' | 'sha384' {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
    ? 'sha384'
    : 'sha256';
}

/**
 * True when `privateKey` is the private half of `certificate`'s key. checkPrivateKey alone
 * compares only the public key stored inside the key file; OpenSSL 3 does not check that the
 * private scalar (or RSA exponent) belongs to it, so a doctored or damaged file would pass and
 * every leaf signed with it would fail verification. A signature over a fresh challenge that the
 * certificate's key verifies proves the pair itself. Never throws: any failure is "no".
 */
export function provesKeyPair(certificate: NodeCertificate, privateKey: KeyObject): boolean {
  try {
    if (!certificate.checkPrivateKey(privateKey)) return false;
    const challenge = randomBytes(32);
    const hash = hashFor(privateKey);
    const signature = sign(hash, challenge, { key: privateKey, dsaEncoding: 'der' });
    return verify(hash, challenge, { key: certificate.publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
