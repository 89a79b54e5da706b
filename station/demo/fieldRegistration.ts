/**
 * What a provisioned device does once it leaves the line: it boots in the field and registers
 * with DPS using ONLY what the station wrote into it — the DPS endpoint, ID scope and
 * registration ID, and its identity (certificate chain and its own key, or its symmetric key).
 * The DEMO and the end-to-end tests run this against the local DPS emulator to prove that a
 * device provisioned here really registers and is assigned a hub.
 */
import { createPrivateKey } from 'node:crypto';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import { registerDevice } from '../../dps/device/registrationClient.js';
import type { DeviceAuth, DeviceRegistrationResult } from '../../dps/device/registrationTypes.js';
import type { CommittedBank } from '../../firmware-bridge/simulator/deviceBanks.js';

/** Why a device cannot even try: the station left it without what registration needs. */
export class FieldRegistrationError extends Error {
  constructor(
    readonly code: 'FIELD_DEVICE_NOT_PROVISIONED',
    detail: string,
  ) {
    super(`The device holds no complete DPS identity: ${detail}`);
    this.name = 'FieldRegistrationError';
  }
}

/** The device's credentials as its DPS client would load them from flash. Secrets: never log. */
export function deviceAuthFrom(bank: CommittedBank): DeviceAuth {
  if (bank.certChain && bank.identityKey) {
    return {
      kind: 'x509',
      certificateChainPem: bank.certChain.map(certificateToPem).join(''),
      privateKeyPem: createPrivateKey({
        key: Buffer.from(bank.identityKey.pkcs8),
        format: 'der',
        type: 'pkcs8',
      })
        .export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    };
  }
  if (bank.symmetricKey && bank.symmetricKey.length > 0) {
    return {
      kind: 'symmetricKey',
      deviceKeyBase64: Buffer.from(bank.symmetricKey).toString('base64'),
    };
  }
  throw new FieldRegistrationError(
    'FIELD_DEVICE_NOT_PROVISIONED',
    'no certificate and key, no symmetric key',
  );
}

export interface FieldRegistrationOptions {
  /** Trust anchor for a DPS that is not Azure's (the emulator's CA). */
  ca?: string;
  signal?: AbortSignal;
}

/** Registers a device from its committed flash bank; resolves with the hub DPS assigned. */
export async function registerFromFlash(
  bank: CommittedBank,
  options: FieldRegistrationOptions = {},
): Promise<DeviceRegistrationResult> {
  const { globalEndpoint, idScope, registrationId } = bank.config;
  if (!globalEndpoint || !idScope || !registrationId) {
    throw new FieldRegistrationError(
      'FIELD_DEVICE_NOT_PROVISIONED',
      'the DPS endpoint, ID scope or registration ID is missing',
    );
  }
  return registerDevice({
    globalEndpoint,
    idScope,
    registrationId,
    auth: deviceAuthFrom(bank),
    ...(options.ca !== undefined && { ca: options.ca }),
    ...(options.signal !== undefined && { signal: options.signal }),
    maxPollDelayMs: 1000,
  });
}
