import type { AttestationMode } from '../lineTypes.js';
import type { Attestor } from './attestor.js';
import { symmetricGroupAttestor, symmetricIndividualAttestor } from './symmetricKey.js';
import { tpmAttestor } from './tpm.js';
import { x509DeviceKeyAttestor } from './x509DeviceKey.js';
import { x509StationKeyAttestor } from './x509StationKey.js';

/** The attestation modes this station can run: every mode a profile may name. */
const attestors: Record<AttestationMode, Attestor> = {
  'x509-device-key': x509DeviceKeyAttestor,
  'x509-station-key': x509StationKeyAttestor,
  'symmetric-key-individual': symmetricIndividualAttestor,
  'symmetric-key-group': symmetricGroupAttestor,
  tpm: tpmAttestor,
};

/** The Attestor of a mode. */
export function attestorFor(mode: AttestationMode): Attestor {
  return attestors[mode];
}
