import type { KeyObject } from 'node:crypto';
import { TPM_ALG, TPMA_OBJECT } from '../tpm/tpmAlgorithms.js';

/**
 * TPM2B_PUBLIC marshalling for tests (TPM 2.0 Part 2, big-endian): the same bytes a TPM
 * returns from TPM2_ReadPublic, built from a node:crypto key so tests get EK public areas
 * without a TPM, and can change one field at a time to reach each refusal. **Test material
 * only.**
 */

/** A scheme (or kdf) and the UINT16 details it carries: a hash, and for ECDAA a count. */
export interface TpmScheme {
  scheme: number;
  details?: number[];
}

export interface TpmPublicFields {
  type: number;
  nameAlg: number;
  objectAttributes: number;
  authPolicy: Uint8Array;
  /** TPMT_SYM_DEF_OBJECT; keyBits and mode are written unless the algorithm is NULL. */
  symmetric: { algorithm: number; keyBits?: number; mode?: number };
  scheme: TpmScheme;
  rsa?: { keyBits: number; exponent: number; modulus: Uint8Array };
  ecc?: { curveId: number; kdf: TpmScheme; x: Uint8Array; y: Uint8Array };
}

/**
 * The TCG default EK template attributes (EK Credential Profile 2.0, templates L-1 and L-2):
 * fixedTPM, fixedParent, sensitiveDataOrigin, adminWithPolicy, restricted, decrypt.
 */
export const EK_TEMPLATE_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.adminWithPolicy |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.decrypt;

/** The templates' authPolicy: PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256. */
export const EK_AUTH_POLICY = Buffer.from(
  '837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA',
  'hex',
);

const CURVE_IDS: Record<string, number> = { 'P-256': 0x0003, 'P-384': 0x0004, 'P-521': 0x0005 };
const NULL_SCHEME: TpmScheme = { scheme: TPM_ALG.NULL };

/** The default EK template (L-1 for RSA, L-2 for ECC) around `publicKey`'s key. */
export function ekTemplateFields(publicKey: KeyObject): TpmPublicFields {
  const common = {
    nameAlg: TPM_ALG.SHA256,
    objectAttributes: EK_TEMPLATE_ATTRIBUTES,
    authPolicy: EK_AUTH_POLICY,
    symmetric: { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB },
    scheme: NULL_SCHEME,
  };
  const jwk = publicKey.export({ format: 'jwk' });
  if (publicKey.asymmetricKeyType === 'rsa') {
    const modulus = Buffer.from(jwk.n!, 'base64url');
    // The template's exponent 0 means 65537; a key with another exponent does not fit it.
    if (jwk.e !== 'AQAB') throw new Error('an EK template key has the exponent 65537');
    return {
      ...common,
      type: TPM_ALG.RSA,
      rsa: { keyBits: modulus.length * 8, exponent: 0, modulus },
    };
  }
  const curveId = CURVE_IDS[jwk.crv ?? ''];
  if (publicKey.asymmetricKeyType !== 'ec' || curveId === undefined) {
    throw new Error(`no EK template for a ${publicKey.asymmetricKeyType ?? 'unknown'} key`);
  }
  return {
    ...common,
    type: TPM_ALG.ECC,
    ecc: {
      curveId,
      kdf: NULL_SCHEME,
      x: Buffer.from(jwk.x!, 'base64url'),
      y: Buffer.from(jwk.y!, 'base64url'),
    },
  };
}

/** TPM2B_PUBLIC: the size of the TPMT_PUBLIC, then the TPMT_PUBLIC. */
export function marshalTpm2bPublic(fields: TpmPublicFields): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): void => void out.push((v >> 8) & 0xff, v & 0xff);
  const u32 = (v: number): void =>
    void out.push((v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  const sized = (bytes: Uint8Array): void => {
    u16(bytes.length);
    out.push(...bytes);
  };
  const scheme = (s: TpmScheme): void => {
    u16(s.scheme);
    for (const d of s.details ?? []) u16(d);
  };
  u16(fields.type);
  u16(fields.nameAlg);
  u32(fields.objectAttributes);
  sized(fields.authPolicy);
  u16(fields.symmetric.algorithm);
  if (fields.symmetric.algorithm !== TPM_ALG.NULL) {
    u16(fields.symmetric.keyBits ?? 128);
    u16(fields.symmetric.mode ?? TPM_ALG.CFB);
  }
  scheme(fields.scheme);
  if (fields.rsa) {
    u16(fields.rsa.keyBits);
    u32(fields.rsa.exponent);
    sized(fields.rsa.modulus);
  } else if (fields.ecc) {
    u16(fields.ecc.curveId);
    scheme(fields.ecc.kdf);
    sized(fields.ecc.x);
    sized(fields.ecc.y);
  }
  return Uint8Array.from([(out.length >> 8) & 0xff, out.length & 0xff, ...out]);
}
