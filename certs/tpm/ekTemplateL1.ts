import { algName, TPM_ALG, TPMA_OBJECT } from './tpmAlgorithms.js';

/**
 * TCG EK Credential Profile 2.0, template L-1: the RSA 2048 EK a TPM keeps at 0x81010001. The
 * Azure IoT device SDKs read that handle and hash its TPM2B_PUBLIC twice, for the `{ek}`
 * registration ID and for the EK DPS encrypts its ActivateCredential answer to. An EK made from
 * any other template (the high-range RSA 3072 one, a vendor's variant) is a genuine EK, but not
 * the one the SDK presents: enrolled, its device could never register.
 *
 * Values as go-tpm's RSAEKTemplate and tpm2-tools' `tpm2_createek -G rsa` (policy_a_sha256,
 * ATTRS_A) write them.
 */
export const EK_TEMPLATE_L1 = {
  nameAlg: TPM_ALG.SHA256,
  /** 0x000300b2. No userWithAuth: only PolicySecret(endorsement) authorizes the EK. */
  attributes:
    TPMA_OBJECT.fixedTPM |
    TPMA_OBJECT.fixedParent |
    TPMA_OBJECT.sensitiveDataOrigin |
    TPMA_OBJECT.adminWithPolicy |
    TPMA_OBJECT.restricted |
    TPMA_OBJECT.decrypt,
  /** PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256. */
  authPolicy: Buffer.from(
    '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa',
    'hex',
  ),
  symmetric: { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB },
  scheme: TPM_ALG.NULL,
  keyBits: 2048,
  /** 0 is the TPM's "default", 65537; a TPM keeps the template's 0 in the public area. */
  exponent: 0,
  uniqueBytes: 256,
} as const;

/** The fields of a public area a template fixes, as parseEkPublic read them. */
export interface TemplateFields {
  type: number;
  nameAlg: number;
  attributes: number;
  authPolicy: Uint8Array;
  symmetric: { algorithm: number; keyBits: number; mode: number };
  scheme: number;
  rsa?: { keyBits: number; exponent: number; uniqueBytes: number };
}

/** How a public area differs from template L-1, one phrase a field; empty when it is L-1. */
export function templateL1Differences(f: TemplateFields): string[] {
  const l1 = EK_TEMPLATE_L1;
  if (f.type !== TPM_ALG.RSA || f.rsa === undefined) return [`type ${algName(f.type)}, not rsa`];
  const differences: string[] = [];
  const differ = (what: string, got: string, want: string): void => {
    if (got !== want) differences.push(`${what} ${got}, not ${want}`);
  };
  differ('nameAlg', algName(f.nameAlg), algName(l1.nameAlg));
  differ('objectAttributes', attributeNames(f.attributes), attributeNames(l1.attributes));
  differ(
    'authPolicy',
    Buffer.from(f.authPolicy).toString('hex') || '(empty)',
    l1.authPolicy.toString('hex'),
  );
  differ('symmetric', symmetricName(f.symmetric), symmetricName(l1.symmetric));
  differ('scheme', algName(f.scheme), algName(l1.scheme));
  differ('keyBits', String(f.rsa.keyBits), String(l1.keyBits));
  differ('exponent', String(f.rsa.exponent), String(l1.exponent));
  differ('unique', `${f.rsa.uniqueBytes} bytes`, `${l1.uniqueBytes} bytes`);
  return differences;
}

/** `fixedTPM|fixedParent|…`, with any bit TPMA_OBJECT does not name in hex. */
function attributeNames(attributes: number): string {
  const names = Object.entries(TPMA_OBJECT)
    .filter(([, bit]) => (attributes & bit) !== 0)
    .map(([name]) => name);
  const known = Object.values(TPMA_OBJECT).reduce((all, bit) => all | bit, 0);
  const unnamed = (attributes & ~known) >>> 0;
  if (unnamed !== 0) names.push(`0x${unnamed.toString(16).padStart(8, '0')}`);
  return names.join('|') || '(none)';
}

function symmetricName(s: { algorithm: number; keyBits: number; mode: number }): string {
  return s.algorithm === TPM_ALG.NULL
    ? 'null'
    : `${algName(s.algorithm)}-${s.keyBits}-${algName(s.mode)}`;
}
