import { createHash, createHmac, randomBytes } from 'node:crypto';
import { aesCfbEncrypt } from './aesCfb.js';
import { kdfa } from './kdfa.js';
import { SHA256, TPM_ALG, TPMA_OBJECT } from './tpmConstants.js';
import { concat, EMPTY, tpm2b, u16, u32 } from './tpmBytes.js';
import { encryptSeed, type TpmStorageKey } from './tpmStorageKey.js';

/** The three inputs of TPM2_Import for a duplicated identity key, each marshalled. */
export interface DuplicatedKey {
  /** TPM2B_PUBLIC of the identity key. */
  publicArea: Uint8Array;
  /** TPM2B_PRIVATE: outer HMAC (TPM2B_DIGEST), then the doubly encrypted sensitive area. */
  duplicate: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET: the outer wrapper's seed, encrypted to the parent ("DUPLICATE"). */
  encryptedSeed: Uint8Array;
}

/**
 * The HMAC-SHA256 signing key's public area, as the Azure SDKs expect it: a keyed hash that
 * signs, used with an empty password. Neither fixedTPM nor fixedParent, or the TPM would
 * refuse to import it; unique binds the public area to the key (H(seedValue || key)).
 */
function identityKeyPublic(seedValue: Uint8Array, key: Uint8Array): Uint8Array {
  return concat(
    u16(TPM_ALG.KEYEDHASH),
    u16(SHA256.id),
    u32(TPMA_OBJECT.userWithAuth | TPMA_OBJECT.sign),
    tpm2b(EMPTY), // authPolicy
    u16(TPM_ALG.HMAC), // TPMT_KEYEDHASH_SCHEME, with its hashAlg
    u16(SHA256.id),
    tpm2b(createHash(SHA256.hash).update(seedValue).update(key).digest()),
  );
}

/** TPM2B_SENSITIVE: the key, an empty authValue and the seedValue the unique was made from. */
function identityKeySensitive(seedValue: Uint8Array, key: Uint8Array): Uint8Array {
  return tpm2b(concat(u16(TPM_ALG.KEYEDHASH), tpm2b(EMPTY), tpm2b(seedValue), tpm2b(key)));
}

/**
 * TPM2_Duplicate done outside a TPM (TPM 2.0 Part 1, 23.3), for a new HMAC key `identityKey`
 * going to `parent` (the device's SRK), with both wrappers:
 * - inner: the sensitive area behind its integrity digest, AES-CFB encrypted with
 *   `innerWrapKey` (AES-128 when 16 bytes), which the device only learns by activating a
 *   credential with its EK;
 * - outer: encrypted and HMACed with keys derived from a seed only the parent can decrypt.
 */
export function duplicateIdentityKey(
  parent: TpmStorageKey,
  identityKey: Uint8Array,
  innerWrapKey: Uint8Array,
): DuplicatedKey {
  const seedValue = randomBytes(SHA256.digestBytes);
  const publicArea = identityKeyPublic(seedValue, identityKey);
  const name = concat(u16(SHA256.id), createHash(SHA256.hash).update(publicArea).digest());
  const sensitive = identityKeySensitive(seedValue, identityKey);

  // The inner integrity is over the marshalled TPM2B_SENSITIVE, size included, then the Name.
  const innerIntegrity = createHash(SHA256.hash).update(sensitive).update(name).digest();
  const encSensitive = aesCfbEncrypt(innerWrapKey, concat(tpm2b(innerIntegrity), sensitive));

  const { hash, digestBytes } = parent.nameAlg;
  const seed = randomBytes(digestBytes);
  const encryptedSeed = encryptSeed(parent, seed, 'DUPLICATE');
  const symKey = kdfa(hash, seed, 'STORAGE', name, EMPTY, parent.symmetricKeyBits);
  const dupSensitive = aesCfbEncrypt(symKey, encSensitive);
  const hmacKey = kdfa(hash, seed, 'INTEGRITY', EMPTY, EMPTY, digestBytes * 8);
  const outerHmac = createHmac(hash, hmacKey).update(dupSensitive).update(name).digest();

  return {
    publicArea: tpm2b(publicArea),
    duplicate: tpm2b(concat(tpm2b(outerHmac), dupSensitive)),
    encryptedSeed,
  };
}
