import { createPublicKey } from 'node:crypto';
import { CertError } from '../certErrors.js';
import { templateL1Differences } from './ekTemplateL1.js';
import { DEFAULT_RSA_EXPONENT, eccSpki, rsaSpki } from './ekSpki.js';
import {
  algName,
  type NistCurve,
  TPM_ALG,
  type SchemeDetails,
  TPM_ECC_SCHEMES,
  TPM_HASHES,
  TPM_KDFS,
  TPM_NIST_CURVES,
  TPM_OTHER_CURVES,
  TPM_RSA_SCHEMES,
  TPM_SYM_MODES,
  TPM_SYM_OBJECT_ALGS,
  TPMA_OBJECT,
} from './tpmAlgorithms.js';
import { malformed, TpmReader } from './tpmReader.js';

/** A TPM endorsement key's public area, read and checked. */
export interface EkPublic {
  /** The TPM2B_PUBLIC bytes as read (size prefix included): what DPS takes as endorsementKey. */
  bytes: Uint8Array;
  type: 'rsa' | 'ecc';
  /** RSA modulus bits (2048, 3072, 4096) */
  keyBits?: number;
  /** ECC curve */
  curve?: 'P-256' | 'P-384' | 'P-521';
  nameAlg: 'sha256' | 'sha384' | 'sha512' | 'sha1';
  /** The same public key as a DER SubjectPublicKeyInfo, to compare with a certificate's. */
  spkiDer: Uint8Array;
  /**
   * How the key differs from template L-1, the RSA EK at 0x81010001 the DPS device SDKs enroll
   * by (ekTemplateL1.ts); empty when it is that EK. Other EKs are real EKs, so reading them
   * succeeds: whether one may be enrolled is the caller's decision.
   */
  templateL1Differences: string[];
}

// The largest TPMT_PUBLIC an RSA-4096 key can have is about 600 bytes; nothing larger is an EK.
const MAX_TPM2B_PUBLIC = 1024;
const MAX_DIGEST = 64; // SHA-512
const MAX_RSA_KEY_BYTES = 512; // RSA 4096
const MAX_ECC_KEY_BYTES = 66; // P-521

const NAME_ALGS = new Map<number, EkPublic['nameAlg']>([
  [TPM_ALG.SHA1, 'sha1'],
  [TPM_ALG.SHA256, 'sha256'],
  [TPM_ALG.SHA384, 'sha384'],
  [TPM_ALG.SHA512, 'sha512'],
]);

/**
 * What makes a key an endorsement key rather than any other TPM object (TCG EK Credential
 * Profile 2.0, EK templates; TPM 2.0 Part 2 TPMA_OBJECT): it never leaves this TPM
 * (fixedTPM, fixedParent), the TPM generated it (sensitiveDataOrigin), and it is a restricted
 * decryption key, which can only unwrap objects the TPM made for itself and never sign.
 */
const EK_REQUIRED_ATTRIBUTES = {
  fixedTPM: TPMA_OBJECT.fixedTPM,
  fixedParent: TPMA_OBJECT.fixedParent,
  sensitiveDataOrigin: TPMA_OBJECT.sensitiveDataOrigin,
  restricted: TPMA_OBJECT.restricted,
  decrypt: TPMA_OBJECT.decrypt,
};
const RSA_EK_BITS = [2048, 3072, 4096];
const RSA_EXPONENT_65537 = 65_537;

interface RsaArea {
  kind: 'rsa';
  scheme: number;
  keyBits: number;
  exponent: number;
  modulus: Uint8Array;
}

interface EccArea {
  kind: 'ecc';
  scheme: number;
  curveId: number;
  kdf: number;
  x: Uint8Array;
  y: Uint8Array;
}

/**
 * Reads a TPM2B_PUBLIC (TPM 2.0 Part 2, as TPM2_ReadPublic returns it and the TPM marshals
 * it) and checks it is an endorsement key. Throws CertError:
 *
 * - `EK_PUBLIC_MALFORMED` when it cannot be read: the size prefix differs from what follows, a
 *   field is cut short or larger than its type allows, bytes follow the last field, an
 *   algorithm ID is none the TPM registry defines for that field, the key is inconsistent with
 *   its parameters (modulus length, coordinate size) or is not a usable key (a point off its
 *   curve).
 * - `EK_NOT_AN_ENDORSEMENT_KEY` when it reads but is another kind of object: not RSA or ECC, a
 *   name hash other than SHA-1/256/384/512, attributes missing fixedTPM, fixedParent,
 *   sensitiveDataOrigin, restricted or decrypt, or with sign set, a symmetric definition or
 *   scheme no restricted decryption key has, an RSA size other than 2048/3072/4096 or an
 *   exponent other than 65537, a curve other than NIST P-256/384/521.
 *
 * It refuses no EK for not being template L-1: `templateL1Differences` says how it differs.
 *
 * Reading comes first, so a refusal for what the key is only concerns a key that was read whole;
 * only the key's own soundness (coordinate sizes, a point on its curve) is judged after the
 * curve is known to be one an EK may use.
 */
export function parseEkPublic(tpm2bPublic: Uint8Array): EkPublic {
  const buf = tpm2bPublic;
  if (buf.length > MAX_TPM2B_PUBLIC) malformed(`${buf.length} bytes; at most ${MAX_TPM2B_PUBLIC}`);
  const r = new TpmReader(buf, 0, buf.length);
  const size = r.u16('TPM2B_PUBLIC size');
  if (size !== buf.length - 2) {
    malformed(`size prefix says ${size} bytes, ${buf.length - 2} follow (is it a TPMT_PUBLIC?)`);
  }
  const type = r.u16('type');
  if (type === TPM_ALG.KEYEDHASH || type === TPM_ALG.SYMCIPHER) {
    notAnEk(`a ${algName(type)} object, not an asymmetric key`);
  }
  if (type !== TPM_ALG.RSA && type !== TPM_ALG.ECC) malformed(`unknown object type ${hex(type)}`);
  const nameAlg = r.u16('nameAlg');
  if (!TPM_HASHES.has(nameAlg) && nameAlg !== TPM_ALG.NULL) {
    malformed(`unknown nameAlg ${hex(nameAlg)}`);
  }
  const attributes = r.u32('objectAttributes');
  const authPolicy = r.sized('authPolicy', MAX_DIGEST);
  const symmetric = readSymDefObject(r);
  const area = type === TPM_ALG.RSA ? readRsaArea(r) : readEccArea(r);
  r.finish('the public area');

  const ekNameAlg = NAME_ALGS.get(nameAlg);
  if (ekNameAlg === undefined) notAnEk(`nameAlg ${algName(nameAlg)}`);
  checkAttributes(attributes);
  if (symmetric.algorithm === TPM_ALG.NULL) {
    notAnEk('no symmetric algorithm: not a restricted decryption (storage) key');
  }
  if (symmetric.mode !== TPM_ALG.CFB) notAnEk(`symmetric mode ${algName(symmetric.mode)}, not CFB`);
  if (area.scheme !== TPM_ALG.NULL) notAnEk(`scheme ${algName(area.scheme)}; an EK has none`);

  const differences = templateL1Differences({
    type,
    nameAlg,
    attributes,
    authPolicy,
    symmetric,
    scheme: area.scheme,
    ...(area.kind === 'rsa' && {
      rsa: { keyBits: area.keyBits, exponent: area.exponent, uniqueBytes: area.modulus.length },
    }),
  });
  const common = {
    bytes: Uint8Array.from(buf),
    nameAlg: ekNameAlg,
    templateL1Differences: differences,
  };
  if (area.kind === 'rsa') {
    if (!RSA_EK_BITS.includes(area.keyBits)) notAnEk(`RSA key of ${area.keyBits} bits`);
    if (area.exponent !== 0 && area.exponent !== RSA_EXPONENT_65537) {
      notAnEk(`RSA exponent ${area.exponent}`);
    }
    const spkiDer = usableSpki(rsaSpki(area.modulus, DEFAULT_RSA_EXPONENT));
    return { ...common, type: 'rsa', keyBits: area.keyBits, spkiDer };
  }
  const curve = TPM_NIST_CURVES.get(area.curveId);
  if (curve === undefined) notAnEk(`ECC curve ${hex(area.curveId)} is not NIST P-256/384/521`);
  if (area.kdf !== TPM_ALG.NULL) notAnEk(`kdf ${algName(area.kdf)}; an EK has none`);
  checkCoordinates(area, curve);
  const spkiDer = usableSpki(eccSpki(curve, area.x, area.y));
  return { ...common, type: 'ecc', curve: curve.name, spkiDer };
}

/** TPMT_SYM_DEF_OBJECT: an algorithm, then key bits and mode unless it is NULL. */
function readSymDefObject(r: TpmReader): { algorithm: number; keyBits: number; mode: number } {
  const algorithm = r.u16('symmetric.algorithm');
  if (algorithm === TPM_ALG.NULL) return { algorithm, keyBits: 0, mode: TPM_ALG.NULL };
  if (!TPM_SYM_OBJECT_ALGS.has(algorithm)) {
    malformed(`unknown symmetric algorithm ${hex(algorithm)}`);
  }
  const keyBits = r.u16('symmetric.keyBits');
  const mode = r.u16('symmetric.mode');
  if (!TPM_SYM_MODES.has(mode)) malformed(`unknown symmetric mode ${hex(mode)}`);
  return { algorithm, keyBits, mode };
}

/** A TPMT_*_SCHEME or TPMT_KDF_SCHEME: the scheme, then the details its type carries. */
function readScheme(r: TpmReader, what: string, schemes: SchemeDetails): number {
  const scheme = r.u16(what);
  if (scheme === TPM_ALG.NULL) return scheme;
  const details = schemes.get(scheme);
  if (details === undefined) malformed(`unknown ${what} ${hex(scheme)}`);
  if (details >= 1) {
    const hash = r.u16(`${what}.hashAlg`);
    if (!TPM_HASHES.has(hash)) malformed(`unknown ${what}.hashAlg ${hex(hash)}`);
  }
  if (details === 2) r.u16(`${what}.count`);
  return scheme;
}

function readRsaArea(r: TpmReader): RsaArea {
  const scheme = readScheme(r, 'scheme', TPM_RSA_SCHEMES);
  const keyBits = r.u16('keyBits');
  const exponent = r.u32('exponent');
  const modulus = r.sized('unique.rsa', MAX_RSA_KEY_BYTES);
  if (modulus.length * 8 !== keyBits || modulus[0] === 0) {
    malformed(`RSA modulus of ${modulus.length} bytes for a ${keyBits}-bit key`);
  }
  return { kind: 'rsa', scheme, keyBits, exponent, modulus };
}

function readEccArea(r: TpmReader): EccArea {
  const scheme = readScheme(r, 'scheme', TPM_ECC_SCHEMES);
  const curveId = r.u16('curveID');
  if (!TPM_NIST_CURVES.has(curveId) && !TPM_OTHER_CURVES.has(curveId)) {
    malformed(`unknown curveID ${hex(curveId)}`);
  }
  const kdf = readScheme(r, 'kdf', TPM_KDFS);
  const x = r.sized('unique.ecc.x', MAX_ECC_KEY_BYTES);
  const y = r.sized('unique.ecc.y', MAX_ECC_KEY_BYTES);
  return { kind: 'ecc', scheme, curveId, kdf, x, y };
}

function checkAttributes(attributes: number): void {
  const missing = Object.entries(EK_REQUIRED_ATTRIBUTES)
    .filter(([, bit]) => (attributes & bit) === 0)
    .map(([name]) => name);
  const signs = (attributes & TPMA_OBJECT.sign) !== 0;
  if (missing.length === 0 && !signs) return;
  const problems = [
    ...(missing.length > 0 ? [`${missing.join(', ')} clear`] : []),
    ...(signs ? ['sign set (a signing key)'] : []),
  ];
  notAnEk(`objectAttributes 0x${attributes.toString(16).padStart(8, '0')}: ${problems.join('; ')}`);
}

function checkCoordinates(area: EccArea, curve: NistCurve): void {
  for (const [name, c] of [
    ['x', area.x],
    ['y', area.y],
  ] as const) {
    if (c.length === 0 || c.length > curve.bytes) {
      malformed(`ECC ${name} of ${c.length} bytes on ${curve.name}`);
    }
  }
}

/** The SPKI as a copy, once node:crypto has loaded it (which refuses a point off its curve). */
function usableSpki(spki: Buffer): Uint8Array {
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertError('EK_PUBLIC_MALFORMED', `the key is not usable: ${String(err)}`, {
      cause: err,
    });
  }
  return new Uint8Array(spki);
}

function notAnEk(detail: string): never {
  throw new CertError('EK_NOT_AN_ENDORSEMENT_KEY', detail);
}

function hex(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}
