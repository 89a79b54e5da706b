import { OID } from '../x509/oids.js';

/**
 * The TPM 2.0 constants an endorsement-key public area uses (TPM 2.0 Library Part 2:
 * TPM_ALG_ID table 9, TPMA_OBJECT table 31, TPM_ECC_CURVE table 10). Only values the
 * registry defines for each field are listed: anything else in a public area is a value the
 * station cannot interpret, and is refused as unreadable rather than guessed at.
 */

export const TPM_ALG = {
  RSA: 0x0001,
  TDES: 0x0003,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  MGF1: 0x0007,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  SM4: 0x0013,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  ECMQV: 0x001d,
  KDF1_SP800_56A: 0x0020,
  KDF2: 0x0021,
  KDF1_SP800_108: 0x0022,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CAMELLIA: 0x0026,
  SHA3_256: 0x0027,
  SHA3_384: 0x0028,
  SHA3_512: 0x0029,
  CTR: 0x0040,
  OFB: 0x0041,
  CBC: 0x0042,
  CFB: 0x0043,
  ECB: 0x0044,
} as const;

/** Every hash a TPMI_ALG_HASH may name. */
export const TPM_HASHES: ReadonlySet<number> = new Set([
  TPM_ALG.SHA1,
  TPM_ALG.SHA256,
  TPM_ALG.SHA384,
  TPM_ALG.SHA512,
  TPM_ALG.SM3_256,
  TPM_ALG.SHA3_256,
  TPM_ALG.SHA3_384,
  TPM_ALG.SHA3_512,
]);

/** Block ciphers a TPMT_SYM_DEF_OBJECT may name (besides NULL). */
export const TPM_SYM_OBJECT_ALGS: ReadonlySet<number> = new Set([
  TPM_ALG.AES,
  TPM_ALG.SM4,
  TPM_ALG.CAMELLIA,
  TPM_ALG.TDES,
]);

/** Block cipher modes (TPMI_ALG_SYM_MODE). */
export const TPM_SYM_MODES: ReadonlySet<number> = new Set([
  TPM_ALG.CTR,
  TPM_ALG.OFB,
  TPM_ALG.CBC,
  TPM_ALG.CFB,
  TPM_ALG.ECB,
  TPM_ALG.NULL,
]);

/**
 * Schemes by the number of UINT16 detail fields that follow them when marshalled: the first
 * detail is always a hash (TPMS_SCHEME_HASH), ECDAA adds a count, RSAES has none (TPMS_EMPTY).
 * NULL, with no details, is valid in each.
 */
export type SchemeDetails = ReadonlyMap<number, 0 | 1 | 2>;

export const TPM_RSA_SCHEMES: SchemeDetails = new Map([
  [TPM_ALG.RSASSA, 1],
  [TPM_ALG.RSAPSS, 1],
  [TPM_ALG.OAEP, 1],
  [TPM_ALG.RSAES, 0],
]);

export const TPM_ECC_SCHEMES: SchemeDetails = new Map([
  [TPM_ALG.ECDSA, 1],
  [TPM_ALG.ECDH, 1],
  [TPM_ALG.SM2, 1],
  [TPM_ALG.ECSCHNORR, 1],
  [TPM_ALG.ECMQV, 1],
  [TPM_ALG.ECDAA, 2],
]);

/** Key derivation schemes (TPMI_ALG_KDF). */
export const TPM_KDFS: SchemeDetails = new Map([
  [TPM_ALG.MGF1, 1],
  [TPM_ALG.KDF1_SP800_56A, 1],
  [TPM_ALG.KDF2, 1],
  [TPM_ALG.KDF1_SP800_108, 1],
]);

/** A NIST curve an EK may use: its name, its coordinate size in bytes, its X.509 OID. */
export interface NistCurve {
  name: 'P-256' | 'P-384' | 'P-521';
  bytes: number;
  oid: string;
}

/** TPM_ECC_CURVE values of the NIST curves the station accepts. */
export const TPM_NIST_CURVES: ReadonlyMap<number, NistCurve> = new Map([
  [0x0003, { name: 'P-256', bytes: 32, oid: OID.secp256r1 }],
  [0x0004, { name: 'P-384', bytes: 48, oid: OID.secp384r1 }],
  [0x0005, { name: 'P-521', bytes: 66, oid: OID.secp521r1 }],
]);

/** Curves a TPM may define that an EK here may not use (P-192, P-224, BN, SM2). */
export const TPM_OTHER_CURVES: ReadonlySet<number> = new Set([
  0x0001, 0x0002, 0x0010, 0x0011, 0x0020,
]);

/** TPMA_OBJECT bits (Part 2 table 31) that tell an endorsement key from other objects. */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
  x509sign: 1 << 19,
} as const;

/** Name of a TPM_ALG_ID for messages: `sha256`, `rsa`, or the hex value when unknown. */
export function algName(id: number): string {
  for (const [name, value] of Object.entries(TPM_ALG)) {
    if (value === id) return name.toLowerCase();
  }
  return `0x${id.toString(16).padStart(4, '0')}`;
}
