import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_IDENTITY_KEY_BYTES, sealIdentityKey, TpmKeyError } from './identityKeyBlob.js';
import { kdfa } from './kdfa.js';
import { TPM_ALG, TPMA_OBJECT } from './tpmConstants.js';
import { openIdentityKeyBlob, splitIdentityKeyBlob } from '../../testing/tpmSoftwareActivation.js';
import {
  eccEkPublicArea,
  EK_ATTRIBUTES,
  EK_POLICY,
  rsaPublicArea,
} from '../../testing/tpmTestKeys.js';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const ek = rsa();
const srk = rsa();
const ekPublic = rsaPublicArea(ek.publicKey, { attributes: EK_ATTRIBUTES, authPolicy: EK_POLICY });
const srkPublic = rsaPublicArea(srk.publicKey);
const identityKey = randomBytes(32);
const seal = (endorsementKey: Uint8Array, storageRootKey = srkPublic): Uint8Array =>
  sealIdentityKey({ endorsementKey, storageRootKey, identityKey });
const open = (blob: Uint8Array): Uint8Array =>
  openIdentityKeyBlob(blob, { ekPrivate: ek.privateKey, srkPrivate: srk.privateKey, srkPublic });

describe('KDFa', () => {
  // Known answers from OpenSSL's SP800-108 KBKDF in counter mode, whose block input
  // i || label || 0x00 || context || L (UINT32 big-endian, with the separator and L on by
  // default) is KDFa's, with contextU || contextV as the context:
  //   openssl kdf -keylen 64 -kdfopt mac:HMAC -kdfopt digest:SHA2-256 \
  //     -kdfopt hexkey:000102…1f -kdfopt salt:STORAGE -kdfopt hexinfo:000b3132 KBKDF
  //   openssl kdf -keylen 16 … -kdfopt salt:INTEGRITY KBKDF   (no context)
  // and checked by hand: HMAC-SHA256(key, 00000001 || "STORAGE\0" || 000b3132 || 00000200)
  // with node:crypto createHmac is the first 32 bytes of the first vector.
  const key = Buffer.from(
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    'hex',
  );

  it('matches SP800-108 counter mode over two blocks, contextU and contextV concatenated', () => {
    const expected =
      'c874cd16cdf9e22384333dad7af5067c4901716fb7cb3466de20a57b9e90bc9f' +
      '98e6c9b00b91707b78821bc8fd17d5b80803dd5aace3c384d7572a028e132138';
    const u = Buffer.from('000b', 'hex');
    const v = Buffer.from('3132', 'hex');
    expect(Buffer.from(kdfa('sha256', key, 'STORAGE', u, v, 512)).toString('hex')).toBe(expected);
    const uv = Buffer.concat([u, v]);
    expect(
      Buffer.from(kdfa('sha256', key, 'STORAGE', uv, Buffer.alloc(0), 512)).toString('hex'),
    ).toBe(expected);
  });

  it('puts the bit count into every block, so a shorter key is not a prefix of a longer one', () => {
    const none = Buffer.alloc(0);
    const short = Buffer.from(kdfa('sha256', key, 'INTEGRITY', none, none, 128)).toString('hex');
    expect(short).toBe('e587ec69df722b250190437442448bb0');
    const long = Buffer.from(kdfa('sha256', key, 'INTEGRITY', none, none, 256)).toString('hex');
    expect(long.startsWith(short)).toBe(false);
  });
});

describe('sealIdentityKey', () => {
  it('produces the six parts the Azure SDKs unmarshal, each its expected size', () => {
    const parts = splitIdentityKeyBlob(seal(ekPublic));
    // u16, then TPM2B_DIGEST (SHA-256 HMAC), then AES-CFB of TPM2B_DIGEST(16-byte wrap key).
    expect(parts.idObject).toHaveLength(2 + (2 + 32) + (2 + 16));
    expect(parts.encryptedSecret).toHaveLength(2 + 256);
    // Outer HMAC, then inner integrity and TPM2B_SENSITIVE {type, authValue, seedValue, key}.
    const sensitive = 2 + 2 + 2 + (2 + 32) + (2 + 32);
    expect(parts.duplicate).toHaveLength(2 + (2 + 32) + (2 + 32) + sensitive);
    expect(parts.encryptedSeed).toHaveLength(2 + 256);
    expect(Buffer.from(parts.publicArea.subarray(0, 18)).toString('hex')).toBe(
      // size 48, KEYEDHASH, SHA-256, userWithAuth|sign, no authPolicy, HMAC-SHA-256, 32-byte unique
      '0030' + '0008' + '000b' + '00040040' + '0000' + '0005' + '000b' + '0020',
    );
    expect(parts.publicArea).toHaveLength(2 + 48);
    expect(Buffer.from(parts.encUriData).toString('hex')).toBe('0000');
  });

  it('opens, with the EK and SRK private keys, to the identity key', () => {
    expect(Buffer.from(open(seal(ekPublic))).equals(identityKey)).toBe(true);
    // Fresh seeds and wrap key every time.
    expect(Buffer.from(seal(ekPublic)).equals(seal(ekPublic))).toBe(false);
  });

  it('binds the credential to this SRK and protects both integrities', () => {
    const other = rsaPublicArea(rsa().publicKey);
    expect(() => open(seal(ekPublic, other))).toThrow(/IDENTITY integrity fails/);
    const blob = seal(ekPublic);
    blob[5]! ^= 1; // inside the credential's integrity HMAC
    expect(() => open(blob)).toThrow(/IDENTITY integrity fails/);
    const duplicate = seal(ekPublic);
    duplicate[54 + 258 + 6]! ^= 1; // inside the duplicate's outer HMAC
    expect(() => open(duplicate)).toThrow(/DUPLICATE integrity fails/);
  });

  it('refuses an ECC EK, a signing key, another nameAlg or symmetric, naming the key', () => {
    const refusal = (endorsementKey: Uint8Array, storageRootKey = srkPublic) => {
      try {
        seal(endorsementKey, storageRootKey);
      } catch (err) {
        expect(err).toBeInstanceOf(TpmKeyError);
        return { code: (err as TpmKeyError).code, message: (err as TpmKeyError).message };
      }
      throw new Error('sealed');
    };
    const ecc = eccEkPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    expect(refusal(ecc)).toEqual({
      code: 'DPS_TPM_KEY_INVALID',
      message:
        'tpm.endorsementKey is an ECC key; the emulator seals identity keys to RSA keys only',
    });
    const signing = rsaPublicArea(srk.publicKey, {
      attributes: TPMA_OBJECT.userWithAuth | TPMA_OBJECT.sign | TPMA_OBJECT.decrypt,
      scheme: [TPM_ALG.NULL],
    });
    expect(refusal(ekPublic, signing).message).toMatch(/^tpm\.storageRootKey is not a storage key/);
    const sha384 = rsaPublicArea(ek.publicKey, { nameAlg: 0x000c, attributes: EK_ATTRIBUTES });
    expect(refusal(sha384).message).toBe(
      'tpm.endorsementKey has name algorithm 0x000c; SHA-256 only',
    );
    const noSymmetric = rsaPublicArea(srk.publicKey, { symmetric: [TPM_ALG.NULL] });
    expect(refusal(ekPublic, noSymmetric).message).toMatch(/storageRootKey does not protect/);
    const scheme = rsaPublicArea(srk.publicKey, { scheme: [0x0017, TPM_ALG.SHA256] });
    expect(refusal(ekPublic, scheme).message).toMatch(/storageRootKey has an encryption scheme/);
    expect(refusal(new Uint8Array(0)).message).toMatch(/endorsementKey is truncated/);
    expect(refusal(Buffer.concat([ekPublic, Buffer.of(0)])).message).toMatch(/1 bytes after/);
    expect(refusal(ekPublic.subarray(0, 100)).message).toMatch(/truncated/);
  });

  it('refuses an empty or oversized identity key', () => {
    const sealKey = (key: Uint8Array) =>
      sealIdentityKey({ endorsementKey: ekPublic, storageRootKey: srkPublic, identityKey: key });
    expect(() => sealKey(new Uint8Array(0))).toThrow(RangeError);
    expect(() => sealKey(new Uint8Array(MAX_IDENTITY_KEY_BYTES + 1))).toThrow(RangeError);
    expect(() => sealKey(new Uint8Array(MAX_IDENTITY_KEY_BYTES))).not.toThrow();
  });

  it('answers damaged EK public areas with TpmKeyError only, never quoting the key', () => {
    const modulusHex = Buffer.from(ekPublic.subarray(-32)).toString('hex');
    const modulusBase64 = Buffer.from(ekPublic.subarray(-32)).toString('base64').slice(0, 16);
    /** Whether the damaged EK was refused; anything but TpmKeyError fails the property. */
    const sealOrRefuse = (damaged: Uint8Array): boolean => {
      try {
        seal(damaged);
        return false;
      } catch (err) {
        if (!(err instanceof TpmKeyError)) throw err;
        expect(err.key).toBe('endorsementKey');
        expect(err.message).not.toContain(modulusHex.slice(0, 16));
        expect(err.message).not.toContain(modulusBase64);
        expect(err.message.length).toBeLessThan(200);
        return true;
      }
    };
    const truncation = fc.nat({ max: ekPublic.length - 1 }).map((n) => ekPublic.subarray(0, n));
    const bitFlip = fc
      .tuple(fc.nat({ max: ekPublic.length * 8 - 1 }), fc.nat({ max: 2 }))
      .map(([bit, extra]) => {
        const damaged = Buffer.from(ekPublic);
        damaged[bit >> 3]! ^= 1 << (bit & 7);
        // Sometimes a second flip, in the header where the fields that matter are.
        if (extra > 0) damaged[(bit * 7 + extra) % 40]! ^= 1 << extra;
        return damaged;
      });
    fc.assert(
      fc.property(truncation, (damaged) => {
        expect(sealOrRefuse(damaged)).toBe(true);
      }),
      { numRuns: 200 },
    );
    // A flip in the modulus still makes a usable RSA key; the rest must be refused cleanly.
    fc.assert(
      fc.property(bitFlip, (damaged) => {
        sealOrRefuse(damaged);
      }),
      { numRuns: 400 },
    );
  });
});
