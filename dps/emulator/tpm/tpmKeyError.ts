/** Which of the device's keys an identity key is sealed to. */
export type TpmKeyRole = 'endorsementKey' | 'storageRootKey';

/**
 * A device's EK or SRK that the emulator cannot seal an identity key to: malformed, not RSA, not
 * a storage key (restricted decryption), or using an algorithm the emulator does not support.
 * The message names the key (by its registration body field) and the reason; it never carries
 * key bytes, so it can go into a 401 body or a log as it is.
 */
export class TpmKeyError extends Error {
  readonly code = 'DPS_TPM_KEY_INVALID' as const;
  readonly key: TpmKeyRole;

  constructor(key: TpmKeyRole, reason: string) {
    super(`tpm.${key} ${reason}`);
    this.name = 'TpmKeyError';
    this.key = key;
  }
}
