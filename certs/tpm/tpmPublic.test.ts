import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertError } from '../certErrors.js';
import {
  EK_TEMPLATE_ATTRIBUTES,
  ekTemplateFields,
  marshalTpm2bPublic,
  type TpmPublicFields,
} from '../testing/tpmPublicWriter.js';
import { TPM_ALG, TPMA_OBJECT } from './tpmAlgorithms.js';
import { parseEkPublic } from './tpmPublic.js';

let rsaKey: KeyObject;
let eccKey: KeyObject;

beforeAll(() => {
  rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  eccKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
});

const spkiOf = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' });

/** The refusal code `parseEkPublic` throws for `bytes`, or 'accepted'. */
function outcome(bytes: Uint8Array): string {
  try {
    parseEkPublic(bytes);
    return 'accepted';
  } catch (err) {
    if (err instanceof CertError) return err.code;
    throw err;
  }
}

/** The TPM2B_PUBLIC of the default EK template around `key`, with `change` applied. */
function ekWith(
  key: KeyObject,
  change: (f: TpmPublicFields) => void = () => undefined,
): Uint8Array {
  const fields = structuredClone(ekTemplateFields(key));
  change(fields);
  return marshalTpm2bPublic(fields);
}

/** A TPM2B_PUBLIC whose size prefix is made to fit `tpmt`. */
function withPrefix(tpmt: Uint8Array): Uint8Array {
  return Uint8Array.from([tpmt.length >> 8, tpmt.length & 0xff, ...tpmt]);
}

describe('parseEkPublic accepts endorsement keys as TPMs marshal them', () => {
  it('reads the RSA EK of template L-1 and gives its key as the SPKI node:crypto writes', () => {
    const bytes = ekWith(rsaKey);
    const ek = parseEkPublic(bytes);
    expect(ek).toMatchObject({ type: 'rsa', keyBits: 2048, nameAlg: 'sha256' });
    expect(ek.curve).toBeUndefined();
    expect(Buffer.from(ek.spkiDer).equals(spkiOf(rsaKey))).toBe(true);
    expect(Buffer.from(ek.bytes).equals(bytes)).toBe(true);
    // The bytes are a copy: the caller's buffer changing later does not change the EK.
    bytes[10]! ^= 0xff;
    expect(ek.bytes[10]).not.toBe(bytes[10]);
  });

  it('reads the ECC EK of template L-2', () => {
    const ek = parseEkPublic(ekWith(eccKey));
    expect(ek).toMatchObject({ type: 'ecc', curve: 'P-256', nameAlg: 'sha256' });
    expect(ek.keyBits).toBeUndefined();
    expect(Buffer.from(ek.spkiDer).equals(spkiOf(eccKey))).toBe(true);
  });

  it('reads RSA 3072, P-384 and P-521 EKs, other name hashes and an explicit exponent 65537', () => {
    const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey;
    expect(parseEkPublic(ekWith(rsa3072)).keyBits).toBe(3072);
    for (const [curve, nameAlg] of [
      ['P-384', TPM_ALG.SHA384],
      ['P-521', TPM_ALG.SHA512],
    ] as const) {
      const key = generateKeyPairSync('ec', { namedCurve: curve }).publicKey;
      const ek = parseEkPublic(ekWith(key, (f) => (f.nameAlg = nameAlg)));
      expect(ek.curve).toBe(curve);
      expect(Buffer.from(ek.spkiDer).equals(spkiOf(key))).toBe(true);
    }
    const explicit = ekWith(rsaKey, (f) => (f.rsa!.exponent = 65_537));
    expect(Buffer.from(parseEkPublic(explicit).spkiDer).equals(spkiOf(rsaKey))).toBe(true);
    expect(parseEkPublic(ekWith(rsaKey, (f) => (f.nameAlg = TPM_ALG.SHA1))).nameAlg).toBe('sha1');
  });

  it('pads an ECC coordinate the TPM gave without its leading zero byte', () => {
    let key: KeyObject;
    let x: Buffer;
    do {
      key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      x = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
    } while (x[0] !== 0);
    const ek = parseEkPublic(ekWith(key, (f) => (f.ecc!.x = x.subarray(1))));
    expect(Buffer.from(ek.spkiDer).equals(spkiOf(key))).toBe(true);
  });
});

describe('parseEkPublic refuses what it cannot read: EK_PUBLIC_MALFORMED', () => {
  it('refuses the public area cut at every byte, whether or not the size prefix was fixed up', () => {
    for (const key of [rsaKey, eccKey]) {
      const bytes = ekWith(key);
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(outcome(bytes.subarray(0, cut)), `cut at ${cut}`).toBe('EK_PUBLIC_MALFORMED');
        if (cut >= 2) {
          expect(outcome(withPrefix(bytes.subarray(2, cut))), `fixed cut at ${cut}`).toBe(
            'EK_PUBLIC_MALFORMED',
          );
        }
      }
    }
  });

  it('refuses trailing bytes, a TPMT_PUBLIC without its prefix, and a kilobyte of anything', () => {
    const bytes = ekWith(eccKey);
    expect(outcome(Uint8Array.from([...bytes, 0]))).toBe('EK_PUBLIC_MALFORMED');
    expect(outcome(withPrefix(Uint8Array.from([...bytes.subarray(2), 0])))).toBe(
      'EK_PUBLIC_MALFORMED',
    );
    expect(outcome(bytes.subarray(2))).toBe('EK_PUBLIC_MALFORMED');
    expect(outcome(withPrefix(new Uint8Array(1100)))).toBe('EK_PUBLIC_MALFORMED');
  });

  it('refuses fields larger than their type allows', () => {
    expect(outcome(ekWith(rsaKey, (f) => (f.authPolicy = new Uint8Array(65))))).toBe(
      'EK_PUBLIC_MALFORMED',
    );
    expect(outcome(ekWith(eccKey, (f) => (f.ecc!.x = new Uint8Array(67))))).toBe(
      'EK_PUBLIC_MALFORMED',
    );
    // Within the TPM2B's limit but longer than a P-256 coordinate.
    expect(outcome(ekWith(eccKey, (f) => (f.ecc!.y = Uint8Array.of(0, ...f.ecc!.y))))).toBe(
      'EK_PUBLIC_MALFORMED',
    );
  });

  it('refuses algorithm IDs the TPM registry does not define for the field', () => {
    const unknown = 0x0099;
    const changes: ((f: TpmPublicFields) => void)[] = [
      (f) => (f.type = unknown),
      (f) => (f.nameAlg = unknown),
      (f) => (f.symmetric.algorithm = unknown),
      (f) => (f.symmetric.mode = unknown),
      (f) => (f.scheme = { scheme: unknown }),
      (f) => (f.scheme = { scheme: TPM_ALG.ECDSA, details: [unknown] }),
      (f) => (f.ecc!.curveId = unknown),
      (f) => (f.ecc!.kdf = { scheme: unknown }),
    ];
    for (const change of changes) {
      expect(outcome(ekWith(eccKey, change)), change.toString()).toBe('EK_PUBLIC_MALFORMED');
    }
  });

  it('refuses a modulus that does not fit keyBits, and a point off its curve', () => {
    expect(outcome(ekWith(rsaKey, (f) => (f.rsa!.keyBits = 3072)))).toBe('EK_PUBLIC_MALFORMED');
    const modulusWithZero = (f: TpmPublicFields): void =>
      void (f.rsa!.modulus = Uint8Array.of(0, ...f.rsa!.modulus.subarray(1)));
    expect(outcome(ekWith(rsaKey, modulusWithZero))).toBe('EK_PUBLIC_MALFORMED');
    const offCurve = (f: TpmPublicFields): void => {
      const y = Uint8Array.from(f.ecc!.y);
      y[31]! ^= 1;
      f.ecc!.y = y;
    };
    expect(outcome(ekWith(eccKey, offCurve))).toBe('EK_PUBLIC_MALFORMED');
  });
});

describe('parseEkPublic refuses other TPM keys: EK_NOT_AN_ENDORSEMENT_KEY', () => {
  /** An attestation (signing) key, as `tpm2_createak` makes one: restricted, sign, no decrypt. */
  const signingKey = (f: TpmPublicFields): void => {
    f.objectAttributes =
      TPMA_OBJECT.fixedTPM |
      TPMA_OBJECT.fixedParent |
      TPMA_OBJECT.sensitiveDataOrigin |
      TPMA_OBJECT.userWithAuth |
      TPMA_OBJECT.restricted |
      TPMA_OBJECT.sign;
    f.symmetric = { algorithm: TPM_ALG.NULL };
    f.scheme =
      f.type === TPM_ALG.RSA
        ? { scheme: TPM_ALG.RSASSA, details: [TPM_ALG.SHA256] }
        : { scheme: TPM_ALG.ECDSA, details: [TPM_ALG.SHA256] };
  };

  it('refuses an RSA and an ECC signing key, saying why', () => {
    for (const key of [rsaKey, eccKey]) {
      expect(() => parseEkPublic(ekWith(key, signingKey))).toThrow(
        expect.objectContaining({
          code: 'EK_NOT_AN_ENDORSEMENT_KEY',
          detail: expect.stringMatching(/decrypt clear; sign set/) as unknown,
        }),
      );
    }
  });

  it('refuses each missing EK attribute, and sign set beside decrypt', () => {
    for (const [name, bit] of Object.entries({
      fixedTPM: TPMA_OBJECT.fixedTPM,
      fixedParent: TPMA_OBJECT.fixedParent,
      sensitiveDataOrigin: TPMA_OBJECT.sensitiveDataOrigin,
      restricted: TPMA_OBJECT.restricted,
      decrypt: TPMA_OBJECT.decrypt,
    })) {
      const bytes = ekWith(rsaKey, (f) => (f.objectAttributes = EK_TEMPLATE_ATTRIBUTES & ~bit));
      expect(() => parseEkPublic(bytes), name).toThrow(
        expect.objectContaining({ detail: expect.stringContaining(`${name} clear`) as unknown }),
      );
    }
    const both = ekWith(
      eccKey,
      (f) => (f.objectAttributes = EK_TEMPLATE_ATTRIBUTES | TPMA_OBJECT.sign),
    );
    expect(outcome(both)).toBe('EK_NOT_AN_ENDORSEMENT_KEY');
  });

  it('refuses keys and objects no EK template makes', () => {
    const changes: [string, KeyObject, (f: TpmPublicFields) => void][] = [
      ['a keyedhash object', rsaKey, (f) => (f.type = TPM_ALG.KEYEDHASH)],
      ['nameAlg SM3', rsaKey, (f) => (f.nameAlg = TPM_ALG.SM3_256)],
      ['nameAlg NULL', eccKey, (f) => (f.nameAlg = TPM_ALG.NULL)],
      ['no symmetric key', rsaKey, (f) => (f.symmetric = { algorithm: TPM_ALG.NULL })],
      ['CBC mode', rsaKey, (f) => (f.symmetric.mode = TPM_ALG.CBC)],
      [
        'an OAEP scheme',
        rsaKey,
        (f) => (f.scheme = { scheme: TPM_ALG.OAEP, details: [TPM_ALG.SHA256] }),
      ],
      ['exponent 3', rsaKey, (f) => (f.rsa!.exponent = 3)],
      ['a BN curve', eccKey, (f) => (f.ecc!.curveId = 0x0010)],
      [
        'a kdf',
        eccKey,
        (f) => (f.ecc!.kdf = { scheme: TPM_ALG.KDF1_SP800_56A, details: [TPM_ALG.SHA256] }),
      ],
    ];
    for (const [what, key, change] of changes) {
      expect(outcome(ekWith(key, change)), what).toBe('EK_NOT_AN_ENDORSEMENT_KEY');
    }
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(outcome(ekWith(rsa1024))).toBe('EK_NOT_AN_ENDORSEMENT_KEY');
  });
});
