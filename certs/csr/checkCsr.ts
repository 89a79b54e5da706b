import { verify, type KeyObject } from 'node:crypto';
import { CertError } from '../certErrors.js';
import type { LeafProfile } from '../leafProfile.js';
import { registrationIdProblem } from '../registrationIdRules.js';
import { OID } from '../x509/oids.js';
import type { PublicKeyDescription } from '../x509/readSpki.js';
import { importDeviceKey } from './importDeviceKey.js';
import { parseCsr, type ParsedCsr } from './parseCsr.js';

/** What the station expects of the CSR a device sent. */
export interface CsrCheckOptions {
  /** The registration ID of the device on this port; the CSR's CN must be exactly this. */
  expectedRegistrationId: string;
  /** The product's leaf profile: allowed keys, allowed requested extensions, size limit. */
  profile: LeafProfile;
}

/** A CSR that passed every check, with the device key ready for use. */
export interface CheckedCsr {
  parsed: ParsedCsr;
  publicKey: KeyObject;
}

/**
 * Checks a device CSR against the profile before any certificate is made for it. Rejects with
 * a CertError naming the first failed check, in this order:
 *
 * 1. `CSR_TOO_LARGE`: more than `profile.maxCsrBytes`, refused before a byte is parsed.
 * 2. `CSR_MALFORMED`: not a strict-DER PKCS#10 v1 request (or, at step 6, a key node:crypto
 *    cannot load, such as an EC point off its curve).
 * 3. `CSR_REGISTRATION_ID_INVALID`: the expected ID breaks the DPS rules (64-char X.509 limit);
 *    this is the station's own mistake, so it is reported before blaming the device.
 * 4. `CSR_KEY_NOT_ALLOWED`: key type/curve not in `profile.allowedKeys`, or RSA below minBits.
 * 5. `CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED`: ecdsa-with-SHA256/384 for EC keys (either curve),
 *    sha256WithRSAEncryption for RSA; nothing else (SHA-1 in particular).
 * 6. `CSR_SIGNATURE_INVALID`: proof of possession fails (the signature over the request info
 *    does not verify with the request's own key).
 * 7. `CSR_SUBJECT_MISMATCH`: the subject does not hold exactly one CN equal to the expected ID
 *    (case-sensitive). Other subject attributes are ignored and never copied.
 * 8. `CSR_ATTRIBUTE_NOT_ALLOWED`: an attribute other than extensionRequest (challengePassword,
 *    unstructuredName, ...), named by OID. Nothing reads them, so a device sending one runs
 *    firmware that expects something the station would silently drop.
 * 9. `CSR_EXTENSION_NOT_ALLOWED`: an extensionRequest names an OID outside
 *    `profile.allowedRequestedExtensions` (requested extensions are never copied either).
 *
 * Cheap structural checks come before the signature so a bad request costs no verify; the
 * signature comes before subject and extensions so those refusals are only ever reported for a
 * request the device provably made.
 *
 * It is async only because the fastest EC key import in Node 20 is WebCrypto's (see
 * importDeviceKey.ts); all of its work runs on the calling thread, none in the thread pool.
 */
export async function checkCsr(der: Uint8Array, options: CsrCheckOptions): Promise<CheckedCsr> {
  const { expectedRegistrationId: expected, profile } = options;
  if (der.length > profile.maxCsrBytes) {
    throw new CertError('CSR_TOO_LARGE', `${der.length} bytes; at most ${profile.maxCsrBytes}`);
  }
  const parsed = parseCsr(der);

  const idProblem = registrationIdProblem(expected, { x509: true });
  if (idProblem) throw new CertError('CSR_REGISTRATION_ID_INVALID', `"${expected}" ${idProblem}`);

  const key = parsed.spki.key;
  const keyRefusal = keyNotAllowed(key, profile);
  if (keyRefusal) throw new CertError('CSR_KEY_NOT_ALLOWED', keyRefusal);

  const hash = signatureHash(key, parsed.signatureAlgorithm);
  if (!hash) {
    throw new CertError(
      'CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED',
      `${parsed.signatureAlgorithm.oid} with a ${key.kty} key`,
    );
  }

  let publicKey: KeyObject;
  try {
    publicKey = await importDeviceKey(parsed.spki);
  } catch (err) {
    throw new CertError('CSR_MALFORMED', `public key unreadable: ${String(err)}`, { cause: err });
  }
  let valid: boolean;
  try {
    valid = verify(hash, parsed.info, { key: publicKey, dsaEncoding: 'der' }, parsed.signature);
  } catch {
    // node:crypto throws rather than returning false for some unparsable signatures.
    valid = false;
  }
  if (!valid) throw new CertError('CSR_SIGNATURE_INVALID', `${hash} signature does not verify`);

  const cn = parsed.commonName;
  if (cn.value !== expected) {
    const found =
      cn.count === 0
        ? 'no CN'
        : cn.count > 1
          ? `${cn.count} CNs`
          : cn.value === undefined
            ? 'a CN that is neither UTF8String nor PrintableString'
            : `CN="${cn.value}"`;
    throw new CertError('CSR_SUBJECT_MISMATCH', `${found}; expected CN="${expected}"`);
  }

  const attribute = parsed.attributeOids.find((oid) => oid !== OID.extensionRequest);
  if (attribute !== undefined) {
    // Only the OID: a challengePassword's value is a secret and never goes to the log.
    const known = ATTRIBUTE_NAMES[attribute];
    const name = known === undefined ? attribute : `${attribute} (${known})`;
    throw new CertError('CSR_ATTRIBUTE_NOT_ALLOWED', `attribute ${name}`);
  }

  const refused = parsed.requestedExtensions.filter(
    (oid) => !profile.allowedRequestedExtensions.includes(oid),
  );
  if (refused.length > 0) {
    throw new CertError('CSR_EXTENSION_NOT_ALLOWED', `requested ${refused.join(', ')}`);
  }
  return { parsed, publicKey };
}

/** PKCS#9 attributes a CSR tool may add, named in the refusal's detail. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.9.2': 'unstructuredName',
  '1.2.840.113549.1.9.7': 'challengePassword',
  '1.2.840.113549.1.9.8': 'unstructuredAddress',
};

/** Why the profile refuses this key, or undefined when it is allowed. */
function keyNotAllowed(key: PublicKeyDescription, profile: LeafProfile): string | undefined {
  switch (key.kty) {
    case 'EC':
      if (profile.allowedKeys.some((k) => k.kty === 'EC' && k.curve === key.curve))
        return undefined;
      return `EC key on curve ${key.curve ?? key.curveOid ?? '(explicit parameters)'}`;
    case 'RSA': {
      if (!key.exponentAllowed) return 'RSA public exponent below 65537 or even';
      const rsa = profile.allowedKeys.filter((k) => k.kty === 'RSA');
      if (rsa.some((k) => key.bits >= k.minBits)) return undefined;
      return rsa.length === 0
        ? `RSA key (${key.bits} bits); the profile allows no RSA keys`
        : `RSA key of ${key.bits} bits; at least ${Math.min(...rsa.map((k) => k.minBits))}`;
    }
    default:
      return `key algorithm ${key.algorithmOid}`;
  }
}

const NULL_PARAMETERS = Buffer.from([0x05, 0x00]);

/** The node:crypto hash for this key and signatureAlgorithm, or undefined when not allowed. */
function signatureHash(
  key: PublicKeyDescription,
  algorithm: ParsedCsr['signatureAlgorithm'],
): 'sha256' | 'sha384' | undefined {
  const params = algorithm.parameters;
  if (key.kty === 'EC') {
    // RFC 5758 3.2: the ECDSA AlgorithmIdentifiers have no parameters at all.
    if (params !== undefined) return undefined;
    if (algorithm.oid === OID.ecdsaWithSha256) return 'sha256';
    if (algorithm.oid === OID.ecdsaWithSha384) return 'sha384';
    return undefined;
  }
  if (key.kty === 'RSA' && algorithm.oid === OID.sha256WithRsaEncryption) {
    // RFC 4055 asks for NULL parameters; absent ones are accepted as many encoders write them.
    return params === undefined || NULL_PARAMETERS.equals(params) ? 'sha256' : undefined;
  }
  return undefined;
}
