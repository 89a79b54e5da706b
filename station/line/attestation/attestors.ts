import type { AttestationMode } from '../lineTypes.js';
import type { Attestor } from './attestor.js';
import { symmetricGroupAttestor, symmetricIndividualAttestor } from './symmetricKey.js';
import { x509DeviceKeyAttestor } from './x509DeviceKey.js';
import { x509StationKeyAttestor } from './x509StationKey.js';

/**
 * The attestation modes this station can run. `tpm` is absent until TPM support lands (GET_EK,
 * EK certificate checks, registration ID from the EK): a TPM Attestor then slots in here, and
 * the run refuses the mode with RUN_MODE_NOT_SUPPORTED until it does.
 */
const attestors: Partial<Record<AttestationMode, Attestor>> = {
  'x509-device-key': x509DeviceKeyAttestor,
  'x509-station-key': x509StationKeyAttestor,
  'symmetric-key-individual': symmetricIndividualAttestor,
  'symmetric-key-group': symmetricGroupAttestor,
};

/** The Attestor of a mode, or undefined when this station cannot run it yet. */
export function attestorFor(mode: AttestationMode): Attestor | undefined {
  return attestors[mode];
}

/** Operator text for a mode the station cannot run yet. */
export function unsupportedModeText(mode: AttestationMode): string {
  return mode === 'tpm'
    ? 'TPM attestation arrives with TPM support; this station cannot provision TPM devices yet. Choose another attestation mode in the product profile.'
    : `The attestation mode ${mode} is not supported by this station. Choose another mode in the product profile.`;
}
