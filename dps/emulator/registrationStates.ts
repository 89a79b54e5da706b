import type { DeviceRegistrationState, InitialTwin } from '../service/serviceTypes.js';
import type { EmulatorStore } from './emulatorStore.js';
import { newEtag } from './enrollmentWrites.js';

/**
 * Device registration states: what a device's last registration produced. The service API shows
 * the DeviceRegistrationState fields; the device API adds the attestation block
 * (`x509: {enrollmentGroupId?}`, `symmetricKey: {…}` or `tpm: {authenticationKey}`) of
 * dps-protocol.md §2.1.
 */
export interface StoredRegistration {
  state: DeviceRegistrationState;
  attestationType: 'x509' | 'symmetricKey' | 'tpm';
  enrollmentGroupId?: string;
  /** From a custom allocation webhook; kept, not sent to the device (IoT Hub would apply it). */
  initialTwin?: InitialTwin;
}

/** What a registration produced, before it is stored. */
export interface RegistrationOutcome {
  registrationId: string;
  attestationType: 'x509' | 'symmetricKey' | 'tpm';
  enrollmentGroupId?: string;
  deviceId: string;
  /** Assigned hub; absent when allocation failed or the enrollment is disabled. */
  assignedHub?: string;
  /** The enrollment (or its group) is disabled: status `disabled`, no hub (nothing allocated). */
  disabled?: boolean;
  substatus?: string;
  error?: { errorCode: number; errorMessage: string };
  payload?: unknown;
  initialTwin?: InitialTwin;
}

/** Stores the outcome as the device's registration state (creation time kept across re-registrations). */
export function saveRegistration(
  store: EmulatorStore,
  outcome: RegistrationOutcome,
): StoredRegistration {
  return store.transaction(() => {
    const previous = store.get<StoredRegistration>('registrations', outcome.registrationId);
    const now = new Date().toISOString();
    const etag = newEtag();
    const state: DeviceRegistrationState = {
      registrationId: outcome.registrationId,
      createdDateTimeUtc: previous?.record.state.createdDateTimeUtc ?? now,
      ...(outcome.disabled === true
        ? { status: 'disabled' as const }
        : outcome.assignedHub !== undefined
          ? {
              assignedHub: outcome.assignedHub,
              deviceId: outcome.deviceId,
              status: 'assigned' as const,
              substatus: outcome.substatus ?? 'initialAssignment',
            }
          : { status: 'failed' as const, ...outcome.error }),
      lastUpdatedDateTimeUtc: now,
      etag,
      ...(outcome.payload !== undefined ? { payload: outcome.payload } : {}),
    };
    const stored: StoredRegistration = {
      state,
      attestationType: outcome.attestationType,
      ...(outcome.enrollmentGroupId !== undefined
        ? { enrollmentGroupId: outcome.enrollmentGroupId }
        : {}),
      ...(outcome.initialTwin !== undefined ? { initialTwin: outcome.initialTwin } : {}),
    };
    store.put('registrations', outcome.registrationId, etag, stored, outcome.enrollmentGroupId);
    return stored;
  });
}

/** The service API's view (GET /registrations/{id}, group queries, an enrollment's registrationState). */
export function serviceView(stored: StoredRegistration): DeviceRegistrationState {
  return stored.state;
}

/**
 * The device API's `registrationState`. A TPM device's carries the sealed identity key it was
 * sent (`authenticationKey`), which the SDKs require; it is held in memory, not stored.
 */
export function deviceView(
  stored: StoredRegistration,
  tpmAuthenticationKey?: string,
): Record<string, unknown> {
  const attestation =
    stored.enrollmentGroupId !== undefined
      ? { enrollmentGroupId: stored.enrollmentGroupId }
      : stored.attestationType === 'tpm' && tpmAuthenticationKey !== undefined
        ? { authenticationKey: tpmAuthenticationKey }
        : {};
  return { [stored.attestationType]: attestation, ...stored.state };
}
