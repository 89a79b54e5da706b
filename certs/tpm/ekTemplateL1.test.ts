import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor } from '../testing/tpmVendorKit.js';
import {
  ekTemplateFields,
  marshalTpm2bPublic,
  type TpmPublicFields,
} from '../testing/tpmPublicWriter.js';
import { EK_TEMPLATE_L1 } from './ekTemplateL1.js';
import { TPM_ALG, TPMA_OBJECT } from './tpmAlgorithms.js';
import { parseEkPublic } from './tpmPublic.js';

/**
 * Template L-1 is the RSA EK the DPS device SDKs read at 0x81010001: every other EK still reads
 * (it is an EK), and says how it differs, which the TPM attestor refuses as RUN_EK_NOT_L1.
 * swtpmEk.test.ts checks the same against a real TPM's EKs.
 */

let rsaKey: KeyObject;
let rsa3072: KeyObject;

beforeAll(() => {
  rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey;
});

/** parseEkPublic's differences from L-1 for the L-1 EK around `key`, with `change` applied. */
function differencesWith(change: (f: TpmPublicFields) => void, key: KeyObject = rsaKey): string[] {
  const fields = structuredClone(ekTemplateFields(key));
  change(fields);
  return parseEkPublic(marshalTpm2bPublic(fields)).templateL1Differences;
}

describe('template L-1', () => {
  it('holds the TCG values (EK Credential Profile 2.0; go-tpm RSAEKTemplate, tpm2_createek)', () => {
    expect(EK_TEMPLATE_L1.attributes).toBe(0x000300b2);
    expect(EK_TEMPLATE_L1.authPolicy.toString('hex')).toBe(
      '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa',
    );
    expect(EK_TEMPLATE_L1).toMatchObject({
      nameAlg: TPM_ALG.SHA256,
      symmetric: { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB },
      scheme: TPM_ALG.NULL,
      keyBits: 2048,
      exponent: 0,
      uniqueBytes: 256,
    });
  });

  it('finds no difference in the L-1 EK a vendor kit TPM holds', async () => {
    const vendor = await createTpmVendor({ name: 'TEST L-1 Vendor' });
    const { ekPublic } = await vendor.makeEk({ type: 'rsa', withCertificate: false });
    expect(parseEkPublic(ekPublic).templateL1Differences).toEqual([]);
  });

  it('names each field an RSA EK differs from L-1 in, one at a time', () => {
    const changes: [string, (f: TpmPublicFields) => void][] = [
      ['nameAlg sha384, not sha256', (f) => (f.nameAlg = TPM_ALG.SHA384)],
      ['symmetric aes-256-cfb, not aes-128-cfb', (f) => (f.symmetric.keyBits = 256)],
      [
        'objectAttributes fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|adminWithPolicy|restricted|decrypt',
        (f) => (f.objectAttributes |= TPMA_OBJECT.userWithAuth),
      ],
      ['authPolicy 0000', (f) => (f.authPolicy = Buffer.alloc(32))],
      ['authPolicy (empty)', (f) => (f.authPolicy = Buffer.alloc(0))],
      ['exponent 65537, not 0', (f) => (f.rsa!.exponent = 65_537)],
      ['objectAttributes', (f) => (f.objectAttributes |= TPMA_OBJECT.noDA)],
    ];
    for (const [what, change] of changes) {
      const differences = differencesWith(change);
      expect(differences, what).toHaveLength(1);
      expect(differences[0], what).toContain(what);
    }
  });

  it('names every difference of an EK shaped like the high-range RSA 3072 one', () => {
    // Only the key size: the 384-byte modulus is the unique field L-1 sizes at 256.
    expect(differencesWith(() => undefined, rsa3072)).toEqual([
      'keyBits 3072, not 2048',
      'unique 384 bytes, not 256 bytes',
    ]);
    // The rest as tpm2_createek -G rsa3072 sets it (its policy is another digest).
    const highRange = (f: TpmPublicFields): void => {
      f.nameAlg = TPM_ALG.SHA384;
      f.objectAttributes |= TPMA_OBJECT.userWithAuth;
      f.authPolicy = Buffer.alloc(48, 0xb2);
      f.symmetric.keyBits = 256;
    };
    expect(differencesWith(highRange, rsa3072).map((d) => d.split(' ')[0])).toEqual([
      'nameAlg',
      'objectAttributes',
      'authPolicy',
      'symmetric',
      'keyBits',
      'unique',
    ]);
  });

  it('says an ECC EK is not L-1 (the attestor refuses it first, as RUN_EK_NOT_RSA)', () => {
    const eccKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(differencesWith(() => undefined, eccKey)).toEqual(['type ecc, not rsa']);
  });
});
