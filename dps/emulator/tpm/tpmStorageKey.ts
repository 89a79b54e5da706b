import { constants, createHash, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';
import { NAME_ALGS, type NameAlg, TPM_ALG, TPMA_OBJECT } from './tpmConstants.js';
import { concat, TpmReader, tpm2b, u16 } from './tpmBytes.js';
import { TpmKeyError, type TpmKeyRole } from './tpmKeyError.js';

/** An RSA storage key of the device's TPM (its EK or SRK), read from its TPM2B_PUBLIC. */
export interface TpmStorageKey {
  role: TpmKeyRole;
  publicKey: KeyObject;
  nameAlg: NameAlg;
  /** The AES key size of its symmetric definition (mode CFB): what it protects children with. */
  symmetricKeyBits: number;
  /** Its TPM Name: nameAlg (UINT16) || H_nameAlg(TPMT_PUBLIC). */
  name: Uint8Array;
}

// An RSA-4096 TPMT_PUBLIC is about 600 bytes; nothing larger is a storage key.
const MAX_TPMT_PUBLIC = 1024;
const MAX_DIGEST = 64;
const RSA_KEY_BITS: ReadonlySet<number> = new Set([2048, 3072, 4096]);
const AES_KEY_BITS: ReadonlySet<number> = new Set([128, 192, 256]);
const hex = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/**
 * Reads and checks `tpm2bPublic` (a TPM2B_PUBLIC as TPM2_ReadPublic returns it) as a key the
 * emulator can seal to: RSA, named with SHA-256, a restricted decryption key (only such a key
 * unwraps objects the TPM itself checks), with an AES-CFB symmetric definition and no scheme.
 * Throws TpmKeyError naming `role` and the first thing wrong.
 */
export function readStorageKey(tpm2bPublic: Uint8Array, role: TpmKeyRole): TpmStorageKey {
  const fail = (reason: string): never => {
    throw new TpmKeyError(role, reason);
  };
  const outer = new TpmReader(tpm2bPublic, fail);
  const area = outer.sized('public area', MAX_TPMT_PUBLIC);
  outer.finish('its TPM2B_PUBLIC');
  if (area.length === 0) fail('is empty');

  const r = new TpmReader(area, fail);
  const type = r.u16('type');
  if (type === TPM_ALG.ECC) {
    fail('is an ECC key; the emulator seals identity keys to RSA keys only');
  }
  if (type !== TPM_ALG.RSA) fail(`has type ${hex(type)}; the emulator seals to RSA keys only`);
  const nameAlgId = r.u16('nameAlg');
  const nameAlg =
    NAME_ALGS.get(nameAlgId) ?? fail(`has name algorithm ${hex(nameAlgId)}; SHA-256 only`);
  const attributes = r.u32('objectAttributes');
  const storage = TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt;
  if ((attributes & storage) !== storage || (attributes & TPMA_OBJECT.sign) !== 0) {
    fail('is not a storage key (a restricted decryption key that cannot sign)');
  }
  r.sized('authPolicy', MAX_DIGEST);

  const symmetric = r.u16('symmetric algorithm');
  if (symmetric !== TPM_ALG.AES) fail('does not protect its children with AES');
  const symmetricKeyBits = r.u16('symmetric keyBits');
  if (!AES_KEY_BITS.has(symmetricKeyBits)) fail(`has an AES key of ${symmetricKeyBits} bits`);
  if (r.u16('symmetric mode') !== TPM_ALG.CFB) fail('does not use AES in CFB mode');
  if (r.u16('scheme') !== TPM_ALG.NULL) fail('has an encryption scheme; a storage key has none');

  const keyBits = r.u16('keyBits');
  if (!RSA_KEY_BITS.has(keyBits)) fail(`is RSA-${keyBits}; 2048, 3072 or 4096 bits only`);
  const exponent = r.u32('exponent');
  const modulus = r.sized('modulus', keyBits / 8);
  r.finish('the modulus');
  // A keyBits-bit RSA modulus fills its bytes to the top bit and, a product of odd primes, is odd.
  if (modulus.length !== keyBits / 8 || (modulus[0]! & 0x80) === 0 || (modulus.at(-1)! & 1) === 0) {
    fail(`does not hold a ${keyBits}-bit RSA modulus`);
  }
  // The TPM writes 0 for the default exponent 65537.
  const e = exponent === 0 ? 65_537 : exponent;
  if (e < 3 || e % 2 === 0) fail('has an RSA exponent that is not odd and at least 3');

  const name = concat(u16(nameAlg.id), createHash(nameAlg.hash).update(area).digest());
  return { role, publicKey: rsaKey(modulus, e, fail), nameAlg, symmetricKeyBits, name };
}

function rsaKey(modulus: Uint8Array, e: number, fail: (reason: string) => never): KeyObject {
  const eBytes = Buffer.alloc(4);
  eBytes.writeUInt32BE(e);
  const start = eBytes.findIndex((b) => b !== 0);
  try {
    return createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(modulus).toString('base64url'),
        e: eBytes.subarray(start).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return fail('is not an RSA public key node:crypto can use');
  }
}

/**
 * TPM 2.0 Part 1, 24.3 (secret sharing with RSA): `seed` encrypted to `key` with RSA-OAEP, its
 * hash the key's nameAlg and its label `label` with a terminating zero, as TPM2B_ENCRYPTED_SECRET.
 * The TPM uses "IDENTITY" for MakeCredential and "DUPLICATE" for an imported object's seed.
 */
export function encryptSeed(
  key: TpmStorageKey,
  seed: Uint8Array,
  label: 'IDENTITY' | 'DUPLICATE',
): Uint8Array {
  let encrypted: Buffer;
  try {
    encrypted = publicEncrypt(
      {
        key: key.publicKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: key.nameAlg.hash,
        oaepLabel: Buffer.from(`${label}\0`, 'latin1'),
      },
      seed,
    );
  } catch {
    throw new TpmKeyError(key.role, 'cannot be encrypted to with RSA-OAEP');
  }
  return tpm2b(encrypted);
}
