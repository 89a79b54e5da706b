import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CHALLENGE_KIND_SYMMETRIC } from '../../../firmware-bridge/codec/messages.js';
import { groupKeyFingerprint } from '../../sync/groupKeyFingerprint.js';
import { RunError } from '../runErrors.js';
import type { AttestedIdentity, Attestor } from './attestor.js';

/** Bytes of an individual enrollment key: 256 bits, within DPS's 16..64-byte range. */
export const INDIVIDUAL_KEY_BYTES = 32;

/**
 * The sealing context of a device's individual symmetric key. The sync worker opens the sealed
 * secret with the same context and sends `base64(key)` as `attestation.symmetricKey.primaryKey`.
 */
export function symmetricKeySealContext(registrationId: string): string {
  return `line-station/dps/symmetric-key/${registrationId}`;
}

/**
 * The device key of a group member, as DPS derives it (dps-protocol.md §2.4):
 * HMAC-SHA256(groupKey, utf8(registrationId)). DPS and the SDKs pass it around base64-encoded;
 * the device holds the raw 32 bytes.
 */
export function deriveGroupDeviceKey(groupKey: Uint8Array, registrationId: string): Buffer {
  return createHmac('sha256', groupKey).update(registrationId, 'utf8').digest();
}

function missingKeySlot(features: { symmetricKeySlot: boolean }): string | undefined {
  return features.symmetricKeySlot ? undefined : 'a symmetric key slot';
}

/** The identity of both symmetric modes: the device proves the key with an HMAC of the nonce. */
function symmetricIdentity(key: Buffer): Omit<AttestedIdentity, 'attestation'> {
  return {
    challenge: {
      kind: CHALLENGE_KIND_SYMMETRIC,
      check: (message, signature) => {
        const expected = createHmac('sha256', key).update(message).digest();
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      },
    },
    dispose: () => key.fill(0),
  };
}

/**
 * A random key per device. The enrollment body carries no key: it travels sealed beside it, so
 * neither the outbox, an export bundle nor a log line ever holds it in clear.
 */
export const symmetricIndividualAttestor: Attestor = {
  mode: 'symmetric-key-individual',
  x509: false,
  missingCapability: (info) => missingKeySlot(info.features),
  async attest({ session, registrationId, request, services }) {
    const key = randomBytes(INDIVIDUAL_KEY_BYTES);
    try {
      // Sealed before the device sees it: if custody fails, nothing was written.
      const sealedSecret = await services.sealSecret(key, symmetricKeySealContext(registrationId));
      await session.request('PUT_SYMMETRIC_KEY', { key }, request);
      return {
        attestation: { type: 'symmetricKey', symmetricKey: {} },
        sealedSecret,
        ...symmetricIdentity(key),
      };
    } catch (err) {
      key.fill(0);
      throw err;
    }
  },
};

/**
 * A member of a symmetric-key enrollment group: the device key derives from the group key, so
 * DPS needs no individual enrollment. The outbox still gets a row naming registration ID and
 * group, so the run shows up there, and the fingerprint of the group key the device key was
 * derived from (never the key): the sync confirms the member only when DPS's group holds that
 * very key, which may no longer be the one stored here once a supervisor replaced it.
 */
export const symmetricGroupAttestor: Attestor = {
  mode: 'symmetric-key-group',
  x509: false,
  missingCapability: (info) => missingKeySlot(info.features),
  async attest({ session, profile, registrationId, request, services }) {
    const enrollmentGroupId = profile.attestation.enrollmentGroupId;
    if (enrollmentGroupId === undefined || services.groupKey === undefined) {
      throw new RunError(
        'RUN_GROUP_KEY_UNAVAILABLE',
        enrollmentGroupId === undefined
          ? 'profile names no enrollment group'
          : 'the line was started without a group key source',
      );
    }
    let groupKey: Uint8Array;
    try {
      groupKey = await services.groupKey(enrollmentGroupId);
    } catch (err) {
      throw new RunError(
        'RUN_GROUP_KEY_UNAVAILABLE',
        `group ${enrollmentGroupId}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const key = deriveGroupDeviceKey(groupKey, registrationId);
    const fingerprint = groupKeyFingerprint(groupKey);
    groupKey.fill(0);
    try {
      await session.request('PUT_SYMMETRIC_KEY', { key }, request);
    } catch (err) {
      key.fill(0);
      throw err;
    }
    return {
      attestation: { type: 'symmetricKey', symmetricKey: {} },
      enrollmentBody: { registrationId, enrollmentGroupId, groupKeyFingerprint: fingerprint },
      ...symmetricIdentity(key),
    };
  },
};
