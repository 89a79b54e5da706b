import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceInfo } from '../../firmware-bridge/codec/messages.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import type { AttestedIdentity } from './attestation/attestor.js';
import { individualEnrollment } from './enrollmentBody.js';
import type { AttestationEvidence, PassedRunRecord } from './lineTypes.js';
import { CommitNotRecordedError, runErrorText, toCodedError } from './runErrors.js';
import type { EarlierProvisioning, RefusedStart, RunDevice, RunRecorder } from './runRecorder.js';

/** What a run learnt so far; a failure record carries all of it. */
export interface RunFacts {
  info?: DeviceInfo;
  registrationId?: string;
  certificateSerial?: string;
  /** What attestation learnt so far, kept with a failure too (a TPM's EK, even one refused). */
  evidence?: AttestationEvidence;
  /**
   * Set once COMMIT is on its way: from here on the device may hold the new identity even
   * without an answer (its answer lost, a cancel, an unplug), so the run can no longer say that
   * the device keeps its previous one.
   */
  commitSent: boolean;
  /** Set once COMMIT was answered: the device holds the new identity from here on. */
  deviceCommitted: boolean;
}

type FailureOutcome = Parameters<RunRecorder['recordFailure']>[1];

/** What a run records of the device identify read. */
export function runDevice(info: DeviceInfo): RunDevice {
  return {
    serialNumber: info.serialNumber,
    model: info.model,
    hardwareRevision: info.hardwareRevision,
    firmwareVersion: info.firmwareVersion,
  };
}

/** Everything a PASS commits, in the shape the store takes (lineTypes.ts PassedRunRecord). */
export function passedRecord(
  run: {
    port: string;
    profile: ProductProfile;
    runId: number;
    info: DeviceInfo;
    registrationId: string;
    identity: AttestedIdentity;
    steps: PassedRunRecord['steps'];
  },
  startedAt: number,
  finishedAt: number,
): PassedRunRecord {
  const { info, registrationId, identity, profile } = run;
  const record: PassedRunRecord = {
    runId: run.runId,
    port: run.port,
    profile: profile.name,
    device: runDevice(info),
    registrationId,
    attestation: profile.attestation.mode,
    enrollment:
      identity.enrollmentBody ??
      individualEnrollment(profile, registrationId, identity.attestation),
    steps: run.steps,
    startedAt,
    finishedAt,
  };
  if (identity.certificateSerial !== undefined) {
    record.certificateSerial = identity.certificateSerial;
  }
  if (identity.sealedSecret !== undefined) record.sealedSecret = identity.sealedSecret;
  if (identity.evidence !== undefined) record.evidence = identity.evidence;
  return record;
}

/**
 * The device has committed; only the store's commit makes the run a PASS. When the store fails
 * the run fails with the store's code, and the operator is told the device holds an identity
 * nobody recorded.
 */
async function commitToStore(
  recorder: RunRecorder,
  record: PassedRunRecord,
  earlier: EarlierProvisioning | undefined,
): Promise<void> {
  try {
    await recorder.commitPass(record, earlier ? { supersedes: earlier } : undefined);
  } catch (err) {
    const coded = toCodedError(err);
    throw new CommitNotRecordedError(
      coded.code === 'RUN_INTERNAL' ? 'RUN_COMMIT_NOT_RECORDED' : coded.code,
      `${runErrorText.RUN_COMMIT_NOT_RECORDED} (${coded.message})`,
      `device ${record.device.serialNumber} committed registration ID ${record.registrationId}` +
        (record.certificateSerial ? `, certificate ${record.certificateSerial}` : '') +
        `; store: ${coded.detail ?? coded.message}`,
      { cause: err },
    );
  }
}

/**
 * How long a device that has committed waits for its earlier enrollment to come back from the
 * sync worker: one DPS call at most (30 s by default), with a margin. A re-provisioning that
 * meets the earlier enrollment mid-sync would otherwise end with a device holding an identity
 * the station never recorded, though the record is only a moment from being possible.
 */
const SETTLE_WAIT_MS = 45_000;
const SETTLE_POLL_MS = 100;

/**
 * commitToStore, retried while the store answers STORE_ENROLLMENT_BUSY (the enrollment this
 * pass replaces is being sent to DPS) until SETTLE_WAIT_MS have passed: the commit stays the
 * one transaction, taken whole or not at all.
 */
export async function commitToStoreWhenSettled(
  recorder: RunRecorder,
  record: PassedRunRecord,
  earlier: EarlierProvisioning | undefined,
): Promise<void> {
  // Set at the first refusal: a commit the store takes at once (every one, on a healthy line)
  // costs no clock read.
  let deadline: number | undefined;
  for (;;) {
    try {
      await commitToStore(recorder, record, earlier);
      return;
    } catch (err) {
      if (!(err instanceof CommitNotRecordedError && err.code === 'STORE_ENROLLMENT_BUSY'))
        throw err;
      deadline ??= performance.now() + SETTLE_WAIT_MS;
      if (performance.now() >= deadline) throw err;
    }
    await sleep(SETTLE_POLL_MS);
  }
}

/** The parts of a failure record the run knows: device, registration ID, certificate. */
export function failureFacts(
  facts: RunFacts,
): Pick<FailureOutcome, 'device' | 'registrationId' | 'certificateSerial'> {
  const out: Pick<FailureOutcome, 'device' | 'registrationId' | 'certificateSerial'> = {};
  if (facts.info) {
    out.device = { serialNumber: facts.info.serialNumber, model: facts.info.model };
  }
  if (facts.registrationId !== undefined) out.registrationId = facts.registrationId;
  if (facts.certificateSerial !== undefined) out.certificateSerial = facts.certificateSerial;
  return out;
}

/**
 * Records a failed or cancelled run, for as long as the recorder takes: the record is not the
 * run's to cancel, so a cancel or a stop never loses it. Should the store fail, the run's failure
 * still stands and its detail says that it is not in the store, for the log (the store writes
 * it later if the condition passes).
 */
export async function recordFailureSafely(
  recorder: RunRecorder,
  runId: number,
  outcome: FailureOutcome,
): Promise<void> {
  try {
    await recorder.recordFailure(runId, outcome);
  } catch (storeErr) {
    const coded = toCodedError(storeErr);
    outcome.error.detail =
      `${outcome.error.detail ?? ''} [failure not recorded: ${coded.code} ${coded.detail ?? coded.message}]`.trim();
  }
}

/** A run the store refused to open, handed to it to be recorded later; never throws. */
export function recordRefusedStartSafely(
  recorder: RunRecorder,
  start: RefusedStart,
  failure: FailureOutcome,
): void {
  try {
    recorder.recordRefusedStart?.(start, failure);
  } catch {
    // A recorder that throws here breaks its contract; the run's failure stands as shown.
  }
}
