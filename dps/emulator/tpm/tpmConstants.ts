/**
 * The few TPM 2.0 constants (Part 2: TPM_ALG_ID table 9, TPMA_OBJECT table 31) the identity key
 * blob needs. dps/ is independent of certs/, so these are kept here rather than shared.
 */
export const TPM_ALG = {
  RSA: 0x0001,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  NULL: 0x0010,
  ECC: 0x0023,
  CFB: 0x0043,
} as const;

export const TPMA_OBJECT = {
  fixedTPM: 0x0000_0002,
  fixedParent: 0x0000_0010,
  sensitiveDataOrigin: 0x0000_0020,
  userWithAuth: 0x0000_0040,
  adminWithPolicy: 0x0000_0080,
  noDA: 0x0000_0400,
  restricted: 0x0001_0000,
  decrypt: 0x0002_0000,
  sign: 0x0004_0000,
} as const;

/** A name algorithm: its TPM_ALG_ID, its node:crypto name and its digest size. */
export interface NameAlg {
  id: number;
  hash: 'sha256';
  digestBytes: number;
}

export const SHA256: NameAlg = { id: TPM_ALG.SHA256, hash: 'sha256', digestBytes: 32 };

/**
 * The name algorithms the emulator can seal with. Only SHA-256: it is what the TCG EK template
 * L-1 and the Azure SDKs' SRK template use, and what the identity key itself is named with.
 */
export const NAME_ALGS: ReadonlyMap<number, NameAlg> = new Map([[SHA256.id, SHA256]]);
