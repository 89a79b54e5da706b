import { createHmac, randomBytes } from 'node:crypto';
import { aesCfbEncrypt } from './aesCfb.js';
import { kdfa } from './kdfa.js';
import { concat, EMPTY, tpm2b } from './tpmBytes.js';
import { encryptSeed, type TpmStorageKey } from './tpmStorageKey.js';

/** What TPM2_MakeCredential returns: the two inputs of the device's TPM2_ActivateCredential. */
export interface CredentialBlob {
  /** TPM2B_ID_OBJECT: integrityHMAC (TPM2B_DIGEST), then encIdentity. */
  idObject: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET: the seed, encrypted to the protector with label "IDENTITY". */
  encryptedSecret: Uint8Array;
}

/**
 * TPM2_MakeCredential done outside a TPM (TPM 2.0 Part 1, 24.4; Part 3, 12.6): `credential`
 * protected so that only the TPM holding `protector`'s private key, and holding a loaded object
 * named `objectName`, gets it back from TPM2_ActivateCredential. The name binds the credential to
 * that object: the TPM refuses to activate it for any other.
 */
export function makeCredential(
  protector: TpmStorageKey,
  objectName: Uint8Array,
  credential: Uint8Array,
): CredentialBlob {
  const { hash, digestBytes } = protector.nameAlg;
  // The TPM refuses a credential larger than a digest of the protector's nameAlg.
  if (credential.length === 0 || credential.length > digestBytes) {
    throw new RangeError(`a credential is 1 to ${digestBytes} bytes, not ${credential.length}`);
  }
  const seed = randomBytes(digestBytes);
  const encryptedSecret = encryptSeed(protector, seed, 'IDENTITY');
  const symKey = kdfa(hash, seed, 'STORAGE', objectName, EMPTY, protector.symmetricKeyBits);
  const encIdentity = aesCfbEncrypt(symKey, tpm2b(credential));
  const hmacKey = kdfa(hash, seed, 'INTEGRITY', EMPTY, EMPTY, digestBytes * 8);
  const integrity = createHmac(hash, hmacKey).update(encIdentity).update(objectName).digest();
  return { idObject: tpm2b(concat(tpm2b(integrity), encIdentity)), encryptedSecret };
}
