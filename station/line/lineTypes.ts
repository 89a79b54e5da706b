import type { DeviceInfo } from '../../firmware-bridge/codec/messages.js';

/**
 * The vocabulary of the line: slots, runs, steps and their events. The line engine produces
 * these, the store records them, and the station API carries them to the UI unchanged.
 */

/** Attestation modes a product profile can choose. `tpm` is reserved for the TPM issue. */
export type AttestationMode =
  | 'x509-device-key'
  | 'x509-station-key'
  | 'symmetric-key-group'
  | 'symmetric-key-individual'
  | 'tpm';

/** Steps of a provisioning run, in order. Modes skip the steps they do not need. */
export const RUN_STEPS = [
  'identify',
  'validate',
  'attest',
  'configure',
  'verify',
  'commit',
] as const;
export type RunStep = (typeof RUN_STEPS)[number];

/**
 * Where a slot is: `empty`, no device on its port; `waiting`, a device is there and no run has
 * started on it (auto mode starts one at once, manual mode waits for Provision); a run in
 * progress; or the result of the last run, kept until another device appears.
 */
export type SlotState = 'empty' | 'waiting' | 'running' | 'pass' | 'fail' | 'cancelled';

/** An error as it crosses to the UI and into the store: stable code, operator text, log detail. */
export interface CodedError {
  code: string;
  message: string;
  detail?: string;
}

/** What the UI shows for one slot (one port). */
export interface SlotView {
  /** Stable per port for the life of the station: 1, 2, 3… */
  slot: number;
  port: string;
  state: SlotState;
  step?: RunStep;
  /** 0..1 over the steps of the current run. */
  progress: number;
  serialNumber?: string;
  model?: string;
  registrationId?: string;
  runId?: number;
  error?: CodedError;
  /**
   * The IoT hub DPS assigned the device to, once the device registered (the DEMO shows its
   * simulated devices registering with the local DPS after the outbox synced).
   */
  registeredHub?: string;
  /** ms since epoch of the last change. */
  updatedAt: number;
}

/**
 * One run that ended, as the recent-runs list of the UI shows it: which device failed on which
 * port, and why, after its slot has moved on to the next device.
 */
export interface RunView {
  runId: number;
  port: string;
  state: 'pass' | 'fail' | 'cancelled';
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; for a run closed as interrupted, the later start that closed it. */
  finishedAt: string;
  serialNumber?: string;
  model?: string;
  registrationId?: string;
  /** Why it did not pass (fail or cancelled): operator text, code, and detail for the log. */
  error?: CodedError;
}

/** Which ended runs to list: the newest `limit`, of every ending or only those that did not pass. */
export interface RecentRunsQuery {
  limit: number;
  /** Only runs that did not pass (fail, cancelled): their devices need another run. */
  failedOnly: boolean;
}

/** Counts of the enrollment outbox by status. */
export interface OutboxCounts {
  pending: number;
  syncing: number;
  synced: number;
  failed: number;
  conflict: number;
}

/** What the station learnt of a device's TPM, kept with the run as its attestation evidence. */
export interface EndorsementEvidence {
  /** hex SHA-256 of the TPM2B_PUBLIC bytes: the EK's fingerprint, the same on every read. */
  ekSha256: string;
  /** Only RSA EKs are enrolled (tpm.ts); the field says so in the record. */
  ekType: 'rsa' | 'ecc';
  /** The EK certificate's check; absent when the TPM holds none and the profile accepts that. */
  certificate?: {
    /** From the EK certificate up to the vendor root. */
    chain: string[];
    vendorRoot: string;
    certificateSha256: string;
    /** The TPM the certificate names (its subjectAltName), as the certificate writes it. */
    tpm?: { manufacturer?: string; model?: string; version?: string };
  };
  /** What the checks accepted under their policy, in plain words. */
  notes: string[];
}

/** What a run checked of the device's identity (validate and attest), kept with its record. */
export interface AttestationEvidence {
  endorsement?: EndorsementEvidence;
}

/** Everything a provisioning run commits in ONE transaction before its slot shows PASS. */
export interface PassedRunRecord {
  runId: number;
  port: string;
  profile: string;
  device: Pick<DeviceInfo, 'serialNumber' | 'model' | 'hardwareRevision' | 'firmwareVersion'>;
  registrationId: string;
  attestation: AttestationMode;
  /** Serial number (hex) of the leaf the run installed, for X.509 modes. */
  certificateSerial?: string;
  /**
   * The DPS individual enrollment to sync (the service API body, api-version 2021-10-01),
   * without secrets: symmetric keys travel sealed in `sealedSecret`.
   */
  enrollment: Record<string, unknown>;
  /** SealedSecret JSON of a symmetric key the enrollment needs, when the mode has one. */
  sealedSecret?: string;
  /** What attest checked (a TPM's EK and its certificate chain), kept with the run. */
  evidence?: AttestationEvidence;
  /** The step log of the run: step, start ms, end ms. */
  steps: { step: RunStep; startedAt: number; endedAt: number }[];
  startedAt: number;
  finishedAt: number;
}
