import type { DeviceInfo } from '../../../firmware-bridge/codec/messages.js';
import { firmwareAllowed, type ProductProfile } from '../../profiles/productProfile.js';
import type { Attestor } from '../attestation/attestor.js';
import { IDENTITY_COMMITTED } from '../passedBeforeStart.js';
import { renderRegistrationId } from '../registrationId.js';
import { RunError } from '../runErrors.js';
import type { EarlierProvisioning, RunRecorder } from '../runRecorder.js';

/**
 * Checks what INFO reported against the product: model, firmware, the capabilities the
 * attestation mode needs, no committed X.509 identity the mode would leave in place; throws
 * RunError.
 */
export function validateDevice(
  info: DeviceInfo,
  profile: ProductProfile,
  attestor: Attestor,
): void {
  if (!profile.models.includes(info.model)) {
    throw new RunError(
      'RUN_MODEL_NOT_ALLOWED',
      `model ${info.model}; profile ${profile.name} allows ${profile.models.join(', ')}`,
    );
  }
  if (!firmwareAllowed(profile, info.firmwareVersion)) {
    throw new RunError(
      'RUN_FIRMWARE_NOT_ALLOWED',
      `firmware ${info.firmwareVersion}; allowed ${profile.firmwareVersions?.join(', ') ?? 'any'}`,
    );
  }
  const missing = attestor.missingCapability(info, profile);
  if (missing !== undefined) {
    throw new RunError('RUN_CAPABILITY_MISSING', `${attestor.mode} needs ${missing}`);
  }
  // COMMIT replaces the identity key and its certificate only when a new key is staged, and
  // only the X.509 modes stage one: a symmetric key lands beside the old pair, a TPM mode writes
  // no key. The board would keep its old certificate and present it first in the field, where
  // DPS refuses it (this enrollment replaced the X.509 one under the same ID), after a PASS.
  // No automatic FACTORY_RESET: a run that failed after it would leave no identity at all.
  if (!attestor.x509 && info.identityState === IDENTITY_COMMITTED) {
    throw new RunError(
      'RUN_IDENTITY_OF_OTHER_MODE',
      `INFO reports a committed X.509 identity; ${attestor.mode} would leave it in place`,
    );
  }
}

/**
 * The registration ID from the profile's template; RUN_REGISTRATION_ID_INVALID when it cannot be,
 * including when the serial (or `extra`'s field) adds nothing to it: it runs before anything is
 * written to the device or issued. `extra` adds a mode's own fields (tpm: `{ek}`).
 */
export function registrationIdFromTemplate(
  profile: ProductProfile,
  info: DeviceInfo,
  x509: boolean,
  extra: Record<string, string> = {},
): string {
  const fields = { ...extra, model: info.model, serial: info.serialNumber };
  // Every field but the profile's own {model} comes from the device and must tell it apart.
  const identifying = Object.keys(fields).filter((name) => name !== 'model');
  try {
    return renderRegistrationId(profile.registrationId.template, fields, { x509, identifying });
  } catch (err) {
    throw new RunError('RUN_REGISTRATION_ID_INVALID', (err as Error).message, { cause: err });
  }
}

/**
 * Applies the duplicate policy. Returns the earlier PASS a re-provisioning supersedes, or
 * undefined for a device never seen. When the policy refuses: RUN_DUPLICATE_DEVICE for the same
 * board again, RUN_REGISTRATION_ID_TAKEN for another board whose serial makes the same ID.
 */
export function checkDuplicate(
  recorder: RunRecorder,
  profile: ProductProfile,
  info: DeviceInfo,
  registrationId: string,
): EarlierProvisioning | undefined {
  const earlier = recorder.findEarlierPass({
    serialNumber: info.serialNumber,
    model: info.model,
    registrationId,
  });
  if (earlier === undefined) return undefined;
  if (profile.duplicates === 'refuse') {
    // The ID matched, the board did not: two serials that make one ID (`SN 001`, `SN-001`), or a
    // label printed twice. "Provisioned before" would send the technician after the wrong board.
    if (earlier.serialNumber !== info.serialNumber || earlier.model !== info.model) {
      throw new RunError(
        'RUN_REGISTRATION_ID_TAKEN',
        `${registrationId} belongs to ${earlier.serialNumber} (${earlier.model}), passed in run ${earlier.runId} at ${earlier.passedAt}; this device is ${info.serialNumber} (${info.model})`,
      );
    }
    throw new RunError(
      'RUN_DUPLICATE_DEVICE',
      `${earlier.serialNumber} (${earlier.model}) passed as ${earlier.registrationId} in run ${earlier.runId} at ${earlier.passedAt}`,
    );
  }
  return earlier;
}
