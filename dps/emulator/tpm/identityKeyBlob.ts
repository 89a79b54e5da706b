import { randomBytes } from 'node:crypto';
import { duplicateIdentityKey } from './duplicateIdentityKey.js';
import { makeCredential } from './makeCredential.js';
import { concat, EMPTY, tpm2b } from './tpmBytes.js';
import { readStorageKey } from './tpmStorageKey.js';

export { TpmKeyError, type TpmKeyRole } from './tpmKeyError.js';

/**
 * The largest identity key: TPMs refuse an HMAC key longer than its hash's block size (64 bytes
 * for SHA-256).
 */
export const MAX_IDENTITY_KEY_BYTES = 64;

// AES-128: the inner wrap key's length is what the device passes to TPM2_Import as keyBits.
const INNER_WRAP_KEY_BYTES = 16;

/**
 * The authenticationKey DPS sends a TPM device: `identityKey` wrapped so that only the TPM
 * holding this EK and SRK can import it.
 *
 * The blob is what the Azure IoT SDKs unmarshal (dps-protocol.md §2.5), in this order:
 * TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET (a credential made to the EK for the SRK's Name,
 * holding a fresh inner wrap key), TPM2B_PRIVATE and TPM2B_ENCRYPTED_SECRET (the identity key
 * duplicated to the SRK, its inner wrapper under that wrap key), TPM2B_PUBLIC (the identity
 * key's public area), and an empty TPM2B_DATA (the Node SDK's encUriData). The device activates
 * the credential with its EK, imports the key under its SRK and HMACs its SAS token with it, so
 * a valid token proves it holds both keys.
 *
 * Both keys are TPM2B_PUBLIC as the device sent them (decoded from base64). Throws TpmKeyError
 * when either is not an RSA storage key named with SHA-256, and RangeError when `identityKey`
 * is empty or longer than MAX_IDENTITY_KEY_BYTES.
 */
export function sealIdentityKey(input: {
  endorsementKey: Uint8Array;
  storageRootKey: Uint8Array;
  identityKey: Uint8Array;
}): Uint8Array {
  const { identityKey } = input;
  if (identityKey.length === 0 || identityKey.length > MAX_IDENTITY_KEY_BYTES) {
    throw new RangeError(
      `an identity key is 1 to ${MAX_IDENTITY_KEY_BYTES} bytes, not ${identityKey.length}`,
    );
  }
  const ek = readStorageKey(input.endorsementKey, 'endorsementKey');
  const srk = readStorageKey(input.storageRootKey, 'storageRootKey');
  const innerWrapKey = randomBytes(INNER_WRAP_KEY_BYTES);
  // ActivateCredential names the SRK as the object the credential is for.
  const credential = makeCredential(ek, srk.name, innerWrapKey);
  const duplicated = duplicateIdentityKey(srk, identityKey, innerWrapKey);
  return concat(
    credential.idObject,
    credential.encryptedSecret,
    duplicated.duplicate,
    duplicated.encryptedSeed,
    duplicated.publicArea,
    tpm2b(EMPTY),
  );
}
