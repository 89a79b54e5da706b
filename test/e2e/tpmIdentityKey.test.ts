import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  softwareTpmMissing,
  startSoftwareTpm,
  type SoftwareTpm,
} from '../../certs/testing/softwareTpm.js';
import { sealIdentityKey } from '../../dps/emulator/tpm/identityKeyBlob.js';

/**
 * The emulator's TPM challenge against real TPMs: an identity key sealed by sealIdentityKey to a
 * swtpm's EK and SRK is opened by that TPM with the Azure SDKs' sequence (tpm2-tools:
 * PolicySecret session, ActivateCredential, Import with the inner wrap key, Load), and the TPM's
 * HMAC with it is node:crypto's. A second swtpm shows the blob opens nowhere else.
 */

const STEP_MS = 60_000;
/** The tool's failure as tpm2-tools reports TPM_RC_INTEGRITY. */
const INTEGRITY_FAILED = (tool: string): RegExp =>
  new RegExp(`^${tool} [\\s\\S]*integrity check failed`);
const hmac = (key: Uint8Array, data: Uint8Array): Buffer =>
  createHmac('sha256', key).update(data).digest();

describe('identity key sealed by the DPS emulator, opened by a software TPM (swtpm)', () => {
  let tpm: SoftwareTpm | undefined;
  let other: SoftwareTpm | undefined;
  let keys: { endorsementKey: Uint8Array; storageRootKey: Uint8Array };
  let otherKeys: { endorsementKey: Uint8Array; storageRootKey: Uint8Array };

  beforeAll(async () => {
    // `npm test` installs the tools first: missing, they fail the suite rather than skip it.
    if (softwareTpmMissing !== undefined) throw new Error(softwareTpmMissing);
    const started = await Promise.allSettled([startSoftwareTpm(), startSoftwareTpm()]);
    [tpm, other] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const read = async (t: SoftwareTpm) => ({
      endorsementKey: await t.endorsementKey(),
      storageRootKey: await t.storageRootKey(),
    });
    keys = await read(tpm!);
    otherKeys = await read(other!);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([tpm?.stop(), other?.stop()]);
  });

  const seal = (to: typeof keys, identityKey: Uint8Array): Uint8Array =>
    sealIdentityKey({ ...to, identityKey });

  it(
    'imports the key into the TPM, whose HMAC-SHA256 with it is the key holder’s',
    async () => {
      // The SDK template's SRK, persisted once: the same public area on every read.
      expect(Buffer.from(await tpm!.storageRootKey()).equals(keys.storageRootKey)).toBe(true);
      // RSA, SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt
      expect(Buffer.from(keys.storageRootKey.subarray(2, 10)).toString('hex')).toBe(
        '0001000b00030472',
      );
      const identityKey = randomBytes(32);
      await tpm!.activateIdentityKey(seal(keys, identityKey));
      // What the device signs for its SAS token, and arbitrary bytes.
      for (const data of [
        Buffer.from('0ne00000000/registrations/device-1\n1767225600'),
        randomBytes(100),
      ]) {
        const signature = await tpm!.signWithIdentity(data);
        expect(Buffer.from(signature).toString('hex')).toBe(
          hmac(identityKey, data).toString('hex'),
        );
      }
    },
    STEP_MS,
  );

  it(
    'refuses a key sealed to another TPM, or to this EK with another SRK',
    async () => {
      const identityKey = randomBytes(32);
      // The seed is encrypted to the other EK: this TPM cannot decrypt it (libtpms answers
      // TPM_RC_FAILURE for a failed OAEP decryption, a hardware TPM TPM_RC_VALUE).
      await expect(tpm!.activateIdentityKey(seal(otherKeys, identityKey))).rejects.toThrow(
        /^tpm2_activatecredential /,
      );
      // The credential names the other SRK, so this TPM's activation fails its integrity check.
      const wrongSrk = {
        endorsementKey: keys.endorsementKey,
        storageRootKey: otherKeys.storageRootKey,
      };
      await expect(tpm!.activateIdentityKey(seal(wrongSrk, identityKey))).rejects.toThrow(
        INTEGRITY_FAILED('tpm2_activatecredential'),
      );
      await expect(tpm!.signWithIdentity(Buffer.from('x'))).rejects.toThrow(/no identity key/);
    },
    STEP_MS,
  );

  it(
    'refuses a blob with a flipped byte in either integrity HMAC, and still opens a good one',
    async () => {
      const identityKey = randomBytes(32);
      const credentialDamaged = seal(keys, identityKey);
      credentialDamaged[10]! ^= 0x01; // TPM2B_ID_OBJECT's integrityHMAC
      await expect(tpm!.activateIdentityKey(credentialDamaged)).rejects.toThrow(
        INTEGRITY_FAILED('tpm2_activatecredential'),
      );
      const duplicateDamaged = seal(keys, identityKey);
      // After TPM2B_ID_OBJECT (54 bytes) and the RSA-2048 secret (258): the duplicate's outer HMAC.
      duplicateDamaged[54 + 258 + 10]! ^= 0x01;
      await expect(tpm!.activateIdentityKey(duplicateDamaged)).rejects.toThrow(
        INTEGRITY_FAILED('tpm2_import'),
      );

      // Failed attempts leave no session or object behind: a good blob still opens.
      await tpm!.activateIdentityKey(seal(keys, identityKey));
      const data = Buffer.from('after refusals');
      expect(Buffer.from(await tpm!.signWithIdentity(data)).equals(hmac(identityKey, data))).toBe(
        true,
      );
    },
    STEP_MS,
  );
});
