import type { KeyObject } from 'node:crypto';
import { TPM_ALG, TPMA_OBJECT } from '../emulator/tpm/tpmConstants.js';
import { concat, EMPTY, tpm2b, u16, u32 } from '../emulator/tpm/tpmBytes.js';

/**
 * Test support only: TPM public areas built from node:crypto keys, so unit tests get EKs and
 * SRKs without a TPM and can change one field at a time to reach each refusal.
 */

/** The TCG EK template L-1's attributes and its PolicySecret(TPM_RH_ENDORSEMENT) authPolicy. */
export const EK_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.adminWithPolicy |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.decrypt;
export const EK_POLICY = Buffer.from(
  '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa',
  'hex',
);
/** The Azure SDKs' SRK template attributes. */
export const SRK_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.userWithAuth |
  TPMA_OBJECT.noDA |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.decrypt;

export interface PublicAreaFields {
  type: number;
  nameAlg: number;
  attributes: number;
  authPolicy: Uint8Array;
  /** TPMT_SYM_DEF_OBJECT: the algorithm, then keyBits and mode unless it is NULL. */
  symmetric: number[];
  /** TPMT_RSA_SCHEME or TPMT_ECC_SCHEME: the scheme, then its hash unless it is NULL. */
  scheme: number[];
}

/** TPM2B_PUBLIC of an RSA key; by default an SRK (template fields overridable one by one). */
export function rsaPublicArea(key: KeyObject, fields: Partial<PublicAreaFields> = {}): Uint8Array {
  const n = Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
  return publicArea({ type: TPM_ALG.RSA, ...fields }, concat(u16(n.length * 8), u32(0), tpm2b(n)));
}

/** TPM2B_PUBLIC of an ECC P-256 EK (template L-2). */
export function eccEkPublicArea(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const point = [jwk.x!, jwk.y!].map((c) => tpm2b(Buffer.from(c, 'base64url')));
  const curveAndKdf = concat(u16(0x0003), u16(TPM_ALG.NULL));
  return publicArea(
    { type: TPM_ALG.ECC, attributes: EK_ATTRIBUTES, authPolicy: EK_POLICY },
    concat(curveAndKdf, ...point),
  );
}

function publicArea(fields: Partial<PublicAreaFields>, rest: Uint8Array): Uint8Array {
  const f: PublicAreaFields = {
    type: TPM_ALG.RSA,
    nameAlg: TPM_ALG.SHA256,
    attributes: SRK_ATTRIBUTES,
    authPolicy: EMPTY,
    symmetric: [TPM_ALG.AES, 128, TPM_ALG.CFB],
    scheme: [TPM_ALG.NULL],
    ...fields,
  };
  const words = (values: number[]): Uint8Array => concat(...values.map(u16));
  return tpm2b(
    concat(
      words([f.type, f.nameAlg]),
      u32(f.attributes),
      tpm2b(f.authPolicy),
      words(f.symmetric),
      words(f.scheme),
      rest,
    ),
  );
}
