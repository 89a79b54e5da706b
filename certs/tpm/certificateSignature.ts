import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DerCursor, isProblem, readWhole, type DerProblem } from '../der/derReader.js';
import { contextConstructed, TAG } from '../der/derTags.js';
import { nullValue, oidValue, smallInteger } from '../der/derValues.js';
import type { VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

/**
 * Certificate signatures as TPM vendors make them: RSA PKCS#1 v1.5 with SHA-1/256/384/512
 * (SHA-1 on CAs from the TPM 1.2 era, still issuing), RSASSA-PSS, and ECDSA with
 * SHA-256/384/512. node:crypto does the arithmetic; this file only decides, from the
 * signatureAlgorithm, which of these the signature claims to be and refuses anything else.
 */

export type SignatureHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How a certificate was signed, once its signatureAlgorithm is understood. */
export interface SignatureScheme {
  kind: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
  hash: SignatureHash;
  /** RSASSA-PSS only. */
  saltLength?: number;
}

const PKCS1: Record<string, SignatureHash> = {
  [VENDOR_OID.sha1WithRsaEncryption]: 'sha1',
  [VENDOR_OID.sha256WithRsaEncryption]: 'sha256',
  [VENDOR_OID.sha384WithRsaEncryption]: 'sha384',
  [VENDOR_OID.sha512WithRsaEncryption]: 'sha512',
};
const ECDSA: Record<string, SignatureHash> = {
  [VENDOR_OID.ecdsaWithSha256]: 'sha256',
  [VENDOR_OID.ecdsaWithSha384]: 'sha384',
  [VENDOR_OID.ecdsaWithSha512]: 'sha512',
};
const HASHES: Record<string, SignatureHash> = {
  [VENDOR_OID.sha1]: 'sha1',
  [VENDOR_OID.sha256]: 'sha256',
  [VENDOR_OID.sha384]: 'sha384',
  [VENDOR_OID.sha512]: 'sha512',
};

/** The scheme `algorithm` names, or why the station does not accept it. */
export function signatureScheme(
  algorithm: VendorCertificate['signatureAlgorithm'],
): SignatureScheme | string {
  const { oid, parameters } = algorithm;
  const pkcs1 = PKCS1[oid];
  if (pkcs1 !== undefined) {
    // RFC 8017 asks for NULL parameters; some encoders leave them out, which changes nothing.
    if (parameters === undefined || isNullElement(parameters))
      return { kind: 'rsa-pkcs1', hash: pkcs1 };
    return `${oid} with parameters other than NULL`;
  }
  const ecdsa = ECDSA[oid];
  if (ecdsa !== undefined) {
    // RFC 5758 3.2: the ECDSA identifiers have no parameters at all.
    return parameters === undefined ? { kind: 'ecdsa', hash: ecdsa } : `${oid} with parameters`;
  }
  if (oid === VENDOR_OID.rsassaPss) {
    const pss = parameters === undefined ? undefined : readPssParameters(parameters);
    return pss === undefined || isProblem(pss)
      ? `RSASSA-PSS parameters unreadable${pss ? `: ${pss.toString()}` : ''}`
      : pss;
  }
  return `signature algorithm ${oid} is not one TPM vendors use`;
}

/** The issuer's public key, or why node:crypto cannot load it. */
export function publicKeyOf(cert: VendorCertificate): KeyObject | string {
  try {
    return createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' });
  } catch (err) {
    return `public key unusable: ${(err as Error).message}`;
  }
}

/** Whether `issuerKey` made the signature on `cert`; a string says why it could not be checked. */
export function signatureVerifies(cert: VendorCertificate, issuerKey: KeyObject): boolean | string {
  const scheme = signatureScheme(cert.signatureAlgorithm);
  if (typeof scheme === 'string') return scheme;
  const keyType = issuerKey.asymmetricKeyType;
  const rsa = keyType === 'rsa' || keyType === 'rsa-pss';
  if ((scheme.kind === 'ecdsa') === rsa) return false;
  try {
    return verify(
      scheme.hash,
      cert.tbs,
      scheme.kind === 'rsa-pss'
        ? {
            key: issuerKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: scheme.saltLength,
          }
        : scheme.kind === 'rsa-pkcs1'
          ? { key: issuerKey, padding: constants.RSA_PKCS1_PADDING }
          : { key: issuerKey, dsaEncoding: 'der' },
      cert.signature,
    );
  } catch {
    // node:crypto throws rather than returning false for some malformed signatures.
    return false;
  }
}

function isNullElement(bytes: Uint8Array): boolean {
  const tlv = readWhole(bytes, TAG.NULL);
  return !isProblem(tlv) && nullValue(tlv) === null;
}

/**
 * RSASSA-PSS-params (RFC 4055 3.1): hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1]
 * DEFAULT mgf1SHA1, saltLength [2] DEFAULT 20, trailerField [3] DEFAULT 1. node:crypto's MGF1
 * uses the signature hash, so a different MGF1 hash is refused rather than mis-verified.
 */
function readPssParameters(params: Uint8Array): SignatureScheme | DerProblem | undefined {
  const whole = readWhole(params, TAG.SEQUENCE);
  if (isProblem(whole)) return whole;
  const fields = new DerCursor(params, whole.valueStart, whole.end);
  let hash: SignatureHash | undefined = 'sha1';
  let mgfHash: SignatureHash | undefined = 'sha1';
  let saltLength = 20;
  let trailer = 1;
  for (let n = 0; n < 4; n++) {
    if (fields.peekTag() !== contextConstructed(n)) continue;
    const wrapper = fields.next(contextConstructed(n));
    if (isProblem(wrapper)) return wrapper;
    const inner = new DerCursor(params, wrapper.valueStart, wrapper.end);
    const element = n < 2 ? inner.next(TAG.SEQUENCE) : inner.next(TAG.INTEGER);
    if (isProblem(element)) return element;
    if (n === 0 || n === 1) {
      const alg = new DerCursor(params, element.valueStart, element.end);
      const algOid = alg.next(TAG.OID);
      if (isProblem(algOid)) return algOid;
      const id = oidValue(params, algOid);
      if (isProblem(id)) return id;
      if (n === 0) {
        hash = HASHES[id];
      } else {
        const mgfParams = alg.next(TAG.SEQUENCE);
        if (isProblem(mgfParams)) return mgfParams;
        const mgfHashOid = new DerCursor(params, mgfParams.valueStart, mgfParams.end).next(TAG.OID);
        if (isProblem(mgfHashOid)) return mgfHashOid;
        const mgfHashId = oidValue(params, mgfHashOid);
        if (isProblem(mgfHashId)) return mgfHashId;
        mgfHash = id === VENDOR_OID.mgf1 ? HASHES[mgfHashId] : undefined;
      }
    } else {
      const value = smallInteger(params, element);
      if (isProblem(value)) return value;
      if (n === 2) saltLength = value;
      else trailer = value;
    }
  }
  if (fields.finish() !== undefined) return undefined;
  if (hash === undefined || mgfHash !== hash || trailer !== 1) return undefined;
  return { kind: 'rsa-pss', hash, saltLength };
}
