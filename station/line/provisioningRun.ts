import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import type { AttestationServices, AttestedIdentity } from './attestation/attestor.js';
import { attestorFor } from './attestation/attestors.js';
import {
  RUN_STEPS,
  type AttestationEvidence,
  type CodedError,
  type PassedRunRecord,
  type RunStep,
} from './lineTypes.js';
import { RunError, StationStopping, toCodedError } from './runErrors.js';
import {
  commitToStoreWhenSettled,
  failureFacts,
  passedRecord,
  recordFailureSafely,
  recordRefusedStartSafely,
  runDevice,
  type RunFacts,
} from './runRecords.js';
import {
  issuedForRun,
  type FailedRunOutcome,
  type RefusedStart,
  type RunDpsRecord,
  type RunRecorder,
  type RunStarter,
} from './runRecorder.js';
import { openWaitEnds } from './openRunWait.js';
import type { ClaimIdentity } from './runClaims.js';
import { runDpsRecord } from './profileFingerprint.js';
import { commitDevice } from './steps/commitDevice.js';
import { configureDevice, type DpsSettings } from './steps/configureDevice.js';
import { verifyChallenge, verifySameDevice, verifyStagedConfig } from './steps/verifyDevice.js';
import {
  checkDuplicate,
  registrationIdFromTemplate,
  validateDevice,
} from './steps/validateDevice.js';

export interface ProvisioningRunOptions {
  /** The port as the operator knows it; recorded with the run. */
  port: string;
  profile: ProductProfile;
  /**
   * What the run records of the DPS settings it writes: the line computes it once for its
   * profile (a fingerprint hashes the whole profile); else it is computed per run.
   */
  dps?: RunDpsRecord;
  recorder: RunRecorder;
  services: AttestationServices;
  /**
   * Gives the run the device's session, opening it if needed. The caller owns the session: the
   * run never closes it, so a slot can keep one session per port across runs (a serial device
   * server in TCP mode takes one client at a time and may refuse a quick reconnect).
   */
  session: () => Promise<DeviceSession>;
  /** Who started the run, for the record. */
  startedBy?: RunStarter;
  /** The operator's name, when the command that started the run knows one (RunOpening). */
  operatorName?: string;
  /**
   * Claims the registration ID (and the TPM's EK) line-wide as soon as validate derives it, so
   * a board with the same ID on another slot at once fails before anything is written to it
   * (RunClaims). Released when the run ends, however it ends.
   */
  claim?: ClaimIdentity;
  /** Cancels the run up to COMMIT; once COMMIT is on the wire the run finishes. */
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Wall clock for the step log; tests may fix it. */
  now?: () => number;
}

/** A step started: what the slot shows while the run goes on. */
export interface RunProgress {
  /** Absent while identify reads the device: the run is opened once it has. */
  runId?: number;
  step: RunStep;
  /** 0..1: the share of steps finished. */
  progress: number;
  device?: { serialNumber: string; model: string };
  registrationId?: string;
}

/** Bytes the station moved on the device's link during the run (for the floor in benchmarks). */
export interface LinkCounters {
  bytesWritten: number;
  bytesRead: number;
}

export type RunOutcome =
  | { state: 'pass'; runId: number; record: PassedRunRecord; link: LinkCounters }
  | {
      state: 'fail' | 'cancelled';
      /** Absent only when the store could not even open the run. */
      runId?: number;
      error: CodedError;
      certificateSerial?: string;
      device?: { serialNumber: string; model: string };
      registrationId?: string;
      link: LinkCounters;
    };

/**
 * One device through identify → validate (model, firmware, capabilities, registration ID,
 * duplicate policy) → attest → configure → verify → commit. The slot shows PASS only after the
 * store's commit returned; every other ending is recorded with `recordFailure`. Never throws.
 */
export async function runProvisioning(options: ProvisioningRunOptions): Promise<RunOutcome> {
  const { profile, recorder, signal } = options;
  const now = options.now ?? Date.now;
  const startedAt = now();
  const steps: PassedRunRecord['steps'] = [];
  const facts: RunFacts = { commitSent: false, deviceCommitted: false };
  // The run is opened once identify has read the device (or failed to), so that a run a crash
  // cuts off names its board, at no extra write: identify only reads, and the store still
  // refuses before anything is written to the device.
  let opened: number | undefined;
  // The store's refusal, kept: asking again in the failure path would wait out its lock again.
  let refused: unknown;
  const start = (): RefusedStart => ({
    port: options.port,
    profile: profile.name,
    startedAt,
    startedBy: options.startedBy,
    device: facts.info && runDevice(facts.info),
    dps: options.dps ?? runDpsRecord(profile),
    ...(options.operatorName !== undefined && { operatorName: options.operatorName }),
  });
  // The recorder may wait to open the run (a running station's store waits out another
  // program's lock while the other slots go on). A cancel, a stop or an unplug ends the wait
  // (openRunWait.ts); `refused` is then what ended it.
  const openRun = async (): Promise<number> => {
    if (opened !== undefined) return opened;
    if (refused !== undefined) throw refused;
    const { port, startedBy, device, dps, operatorName } = start();
    const ends = openWaitEnds(signal, session);
    try {
      const opening = { signal: ends.signal, dps, operatorName };
      opened = await recorder.beginRun(port, profile.name, startedAt, startedBy, device, opening);
    } catch (err) {
      refused = err;
      throw err;
    } finally {
      ends.dispose();
    }
    return opened;
  };
  let current: { step: RunStep; startedAt: number } | undefined;
  const enter = (step: RunStep): void => {
    signal?.throwIfAborted();
    const at = now();
    if (current) steps.push({ step: current.step, startedAt: current.startedAt, endedAt: at });
    current = { step, startedAt: at };
    options.onProgress?.({
      ...(opened !== undefined && { runId: opened }),
      step,
      progress: RUN_STEPS.indexOf(step) / RUN_STEPS.length,
      ...(facts.info && {
        device: { serialNumber: facts.info.serialNumber, model: facts.info.model },
      }),
      ...(facts.registrationId !== undefined && { registrationId: facts.registrationId }),
    });
  };
  const closeSteps = (): void => {
    if (current) steps.push({ step: current.step, startedAt: current.startedAt, endedAt: now() });
    current = undefined;
  };

  let session: DeviceSession | undefined;
  let linkBefore: LinkCounters | undefined;
  let identity: AttestedIdentity | undefined;
  let release: (() => void) | undefined;
  try {
    const request = signal ? { signal } : {};
    enter('identify');
    session = await options.session();
    linkBefore = linkOf(session);
    const info = await session.identify(request);
    facts.info = info;
    const runId = await openRun();

    enter('validate');
    const attestor = attestorFor(profile.attestation.mode);
    validateDevice(info, profile, attestor);
    const onEvidence = (evidence: AttestationEvidence): void => {
      facts.evidence = evidence;
    };
    const registrationId = attestor.registrationId
      ? await attestor.registrationId({
          session,
          profile,
          info,
          request,
          services: options.services,
          onEvidence,
        })
      : registrationIdFromTemplate(profile, info, attestor.x509);
    facts.registrationId = registrationId;
    // Before the duplicate policy: the store knows only what passed, not what is in flight.
    const ekSha256 = facts.evidence?.endorsement?.ekSha256;
    release = options.claim?.({ registrationId, ...(ekSha256 !== undefined && { ekSha256 }) });
    const earlier = checkDuplicate(recorder, profile, info, registrationId);

    enter('attest');
    identity = await attestor.attest({
      session,
      profile,
      info,
      registrationId,
      request,
      services: options.services,
      issuedFor: issuedForRun(runId),
      onCertificateIssued: (serial) => (facts.certificateSerial = serial),
      onEvidence,
    });

    enter('configure');
    const settings: DpsSettings = {
      globalEndpoint: profile.dps.globalEndpoint,
      idScope: profile.dps.idScope,
      registrationId,
    };
    await configureDevice(session, settings, request);

    enter('verify');
    await verifyStagedConfig(session, settings, request);
    // A signed challenge also proves the board is the one attest staged; without one (a TPM's
    // EK) the run asks the board who it is again. Only then: the other modes need no extra
    // request per device. The EK validate read is asked for again: boards of one cloned image
    // answer INFO alike, their TPMs do not.
    if (identity.challenge !== null) await verifyChallenge(session, identity.challenge, request);
    else await verifySameDevice(session, info, request, ekSha256);

    enter('commit');
    // COMMIT counts as sent once the session took it for the wire (it counts a request's payload
    // before its first write; a write that failed or stalled may still have reached the device).
    // A link closed before that refuses COMMIT without writing a byte: the device keeps its
    // previous identity, and the run fails with the link's error, as for any unplug.
    const payloadBefore = session.stats.payloadBytesSent;
    try {
      await commitDevice(session);
    } finally {
      facts.commitSent = session.stats.payloadBytesSent !== payloadBefore;
    }
    facts.deviceCommitted = true;
    closeSteps();
    const record = passedRecord(
      { port: options.port, profile, runId, info, registrationId, identity, steps },
      startedAt,
      now(),
    );
    await commitToStoreWhenSettled(recorder, record, earlier);
    options.onProgress?.({
      runId,
      step: 'commit',
      progress: 1,
      device: record.device,
      registrationId,
    });
    return { state: 'pass', runId, record, link: linkSince(session, linkBefore) };
  } catch (err) {
    closeSteps();
    let runId: number;
    try {
      runId = await openRun();
    } catch (storeErr) {
      // No run could be opened: the store's refusal is what the operator must see first, and
      // the store records it as a failed run once it takes writes again. A cancel or a stop
      // that ended the wait for the lock is a cancelled run; a device gone, the run's own error.
      const device = failureFacts(facts).device;
      const cancelled = signal?.aborted === true && storeErr === signal.reason;
      const error = cancelled
        ? cancelError(signal, err, steps)
        : toCodedError(storeErr instanceof WireError ? err : storeErr);
      const failure: FailedRunOutcome = {
        state: cancelled ? 'cancelled' : 'fail',
        error,
        ...(device && { device }),
        steps,
        finishedAt: now(),
      };
      recordRefusedStartSafely(recorder, start(), failure);
      return {
        state: failure.state,
        error,
        ...(device && { device }),
        link: linkSince(session, linkBefore),
      };
    }
    const cancelled = signal?.aborted === true && !facts.commitSent;
    const error: CodedError = cancelled
      ? cancelError(signal, err, steps)
      : facts.commitSent && !facts.deviceCommitted && !deviceRefusedCommit(err)
        ? new RunError('RUN_COMMIT_UNCONFIRMED', unconfirmedDetail(err, signal)).toJSON()
        : toCodedError(err);
    const state = cancelled ? 'cancelled' : 'fail';
    const failure = failureFacts(facts);
    await recordFailureSafely(recorder, runId, {
      state,
      error,
      ...failure,
      ...(facts.evidence && { evidence: facts.evidence }),
      steps,
      finishedAt: now(),
    });
    return { state, runId, error, ...failure, link: linkSince(session, linkBefore) };
  } finally {
    // After the store recorded the run: a board with this ID that starts next is then judged
    // by the duplicate policy against this run's PASS.
    release?.();
    identity?.dispose();
  }
}

/**
 * COMMIT was answered with an error of the device's own (PROTOCOL.md §7): a definite answer, not
 * a lost one. The device either did not execute it (BUSY, LOCKED, NOTHING_STAGED: a repeat of a
 * COMMIT it did execute is answered with success, §4.10) or kept its committed bank whole (a
 * failed flash write leaves the old state, §4), so it holds its previous identity and the run
 * fails with the device's own code and advice. Only silence, a hang-up or an answer the station
 * cannot read leaves the device's state unknown (RUN_COMMIT_UNCONFIRMED); an error code this
 * station does not know says nothing it can rely on either.
 */
function deviceRefusedCommit(err: unknown): boolean {
  return (
    err instanceof WireError &&
    err.code.startsWith('DEVICE_') &&
    err.code !== 'DEVICE_ERROR_UNKNOWN'
  );
}

function unconfirmedDetail(err: unknown, signal: AbortSignal | undefined): string {
  const coded = toCodedError(err);
  const why = signal?.aborted === true ? 'cancelled while COMMIT was out' : 'COMMIT unanswered';
  return `${why}: ${coded.code} ${coded.detail ?? coded.message}`;
}

/** A run cancelled before COMMIT: by the station's stop, or else by the operator. */
function cancelError(signal: AbortSignal, err: unknown, steps: PassedRunRecord['steps']) {
  const last = steps[steps.length - 1]?.step ?? 'identify';
  return new RunError(
    signal.reason instanceof StationStopping ? 'RUN_INTERRUPTED' : 'RUN_CANCELLED',
    `cancelled during ${last}: ${toCodedError(err).detail ?? String(err)}`,
  ).toJSON();
}

function linkOf(session: DeviceSession): LinkCounters {
  return { bytesWritten: session.stats.bytesWritten, bytesRead: session.stats.bytesRead };
}

function linkSince(
  session: DeviceSession | undefined,
  before: LinkCounters | undefined,
): LinkCounters {
  if (!session || !before) return { bytesWritten: 0, bytesRead: 0 };
  const now = linkOf(session);
  return {
    bytesWritten: now.bytesWritten - before.bytesWritten,
    bytesRead: now.bytesRead - before.bytesRead,
  };
}
