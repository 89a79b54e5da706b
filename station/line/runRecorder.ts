import type {
  AttestationEvidence,
  CodedError,
  OutboxCounts,
  PassedRunRecord,
  RecentRunsQuery,
  RunView,
} from './lineTypes.js';
import type { RunCounts } from './dayTally.js';
import type { AttestationMode } from '../profiles/attestationModes.js';

/**
 * Who started a run: `operator` (a Provision press; every run of a manual line) or `auto` (auto
 * mode, as a device appeared). An operator's start ends a device's streak of failures.
 */
export type RunStarter = 'operator' | 'auto';

/** A device as identify read it, as a run records it. */
export type RunDevice = PassedRunRecord['device'];

/**
 * The DPS settings a run writes into its device (what SET_CONFIG carries but the registration
 * ID), and which version of its profile they came from: the station cannot check a scope against
 * DPS, so a day with a wrong one is traced through this record to the devices it reached.
 */
export interface RunDpsRecord {
  idScope: string;
  globalEndpoint: string;
  /** 16 hex digits of a SHA-256 of the profile, defaults left out (profileFingerprint.ts). */
  profileFingerprint: string;
}

/** A device that passed before, as the duplicate policy needs to see it. */
export interface EarlierProvisioning {
  runId: number;
  serialNumber: string;
  model: string;
  registrationId: string;
  /** ISO 8601 time of the earlier PASS. */
  passedAt: string;
}

/** A TPM's EK as seen on one device. */
export interface EndorsementKeyQuery {
  ekSha256: string;
  serialNumber: string;
  model: string;
}

/** How a refusal names the other device an EK passed on (the line's check and the store's). */
export function endorsementKeyElsewhereText(ekSha256: string, other: EarlierProvisioning): string {
  return `EK ${ekSha256.slice(0, 16)}… passed on ${other.serialNumber} (${other.model}) as ${other.registrationId} in run ${other.runId} at ${other.passedAt}`;
}

/**
 * What the line engine needs from the store. The SQLite store implements it synchronously, as
 * better-sqlite3 is; a write may also resolve later (a running station's store waits out another
 * program's lock on a timer: store/lockWaitingRecorder.ts), so the line awaits every write, and
 * goes on only once it is durable. The reads stay synchronous.
 */
export interface RunRecorder {
  /**
   * Opens a run (state `running`) and returns its id. `startedBy` records who started it
   * (unknown when left out); `device`, the device identify read (left out when it answered
   * nothing), so that a run a crash cuts off still names the board it was on.
   */
  beginRun(
    port: string,
    profile: string,
    startedAt: number,
    startedBy?: RunStarter,
    device?: RunDevice,
    options?: RunOpening,
  ): number | Promise<number>;
  /**
   * Commits device, run, certificate status and enrollment (outbox `pending`) in ONE durable
   * transaction. When `supersedes` is set, the earlier enrollment is marked superseded in the
   * same transaction (re-provisioning); both stay in history. The line awaits what it returns
   * (a store's own result, such as the SQLite store's enrollment id) and uses none of it.
   */
  commitPass(record: PassedRunRecord, options?: { supersedes?: EarlierProvisioning }): unknown;
  /**
   * Ends a run that did not pass: its error and step log are kept, no enrollment is written,
   * and a certificate issued for it is marked `abandoned`.
   */
  recordFailure(
    runId: number,
    outcome: {
      state: 'fail' | 'cancelled';
      error: CodedError;
      certificateSerial?: string;
      device?: { serialNumber: string; model: string };
      registrationId?: string;
      /** What was learnt of the identity before the failure (a TPM's EK, even one refused). */
      evidence?: AttestationEvidence;
      steps: PassedRunRecord['steps'];
      finishedAt: number;
    },
    options?: FailureTry,
  ): void | Promise<void>;
  /** The latest PASS of this device (same serial number and model) or registration ID, if any. */
  findEarlierPass(query: {
    serialNumber: string;
    model: string;
    registrationId: string;
  }): EarlierProvisioning | undefined;
  /**
   * The latest PASS of ANOTHER device (serial number and model) whose TPM had this endorsement
   * key (hex SHA-256 of its TPM2B_PUBLIC), if any. Optional: without it the line cannot tell a
   * copied EK from a new one.
   */
  findEndorsementKeyElsewhere?(query: EndorsementKeyQuery): EarlierProvisioning | undefined;
  outboxCounts(): OutboxCounts;
  /**
   * A number that changes when another process (a supervisor's `station bundle receive` or
   * `queue requeue`) committed to the database since it was last asked. Optional: without it
   * the line re-reads the outbox counts only after its own PASS and the sync's progress.
   */
  dataVersion?(): number;
  /**
   * How many runs of the device on `port`, started at or after `sinceMs` and before run
   * `beforeRunId`, failed in a row (newest first, up to `limit`). Optional: without it a
   * restarted station counts a device's failures from zero.
   */
  failedRunsInARow?(query: FailedRunsQuery): number;
  /**
   * How the runs started at or after `sinceMs` ended. Optional: without it the line's tally of
   * the day starts at zero with the station.
   */
  runCountsSince?(sinceMs: number): RunCounts;
  /**
   * The latest runs that ended (pass, fail or cancelled, never `running`), newest first, at most
   * `limit`; only those that did not pass (fail, cancelled) when `failedOnly`. Optional: without it (the in-memory
   * recorder keeps no history for a UI) the line lists none.
   */
  recentRuns?(query: RecentRunsQuery): RunView[];
  /**
   * The ports whose latest ended run (among the station's recent runs) passed, with its
   * enrollment still live. Optional: without it a restarted line in auto mode runs every device
   * still on its ports again, as their duplicate policy says.
   */
  lastPassesByPort?(): PortPass[];
  /**
   * The ports whose board was held when the station stopped: the latest runs on the port (among
   * the station's recent runs) that named a board are `minFailures` or more failures in a row of
   * that board, counted as its slot had counted them when the station stopped (failureStreak.ts:
   * failures from before that station's start only within EARLIER_FAILURES_WINDOW_MS of its
   * first failure, and at most `minFailures` - 1 of them). Optional: without it a
   * restarted line in auto mode runs such a board once more before it holds it again.
   */
  heldBoardsByPort?(minFailures: number): PortHold[];
  /**
   * Records a run whose beginRun was refused (disk full, a lock that outlasted the wait) as
   * failed with the refusal: at once if the database takes it now, else before its next write,
   * as recordFailure does with a failure it refused. Never throws. Optional: without it such a
   * run is in no record, and a restarted line's tally of the day misses it.
   */
  recordRefusedStart?(start: RefusedStart, failure: FailedRunOutcome): void;
}

/** How the line opens a run (RunRecorder.beginRun). */
export interface RunOpening {
  /**
   * Ends a recorder's wait to open the run (another program's lock) with its reason: the run
   * was cancelled or stopped, or its device went. A recorder that never waits ignores it.
   */
  signal?: AbortSignal;
  /** The DPS settings the run writes into its device; recorded with the run when given. */
  dps?: RunDpsRecord;
  /**
   * The operator's name, when the command that started the run knows one (`station provision`:
   * --by, else the OS user); only with `startedBy` `operator`. Recorded with the run, and the
   * audit trail names that operator for its PASS or failure.
   */
  operatorName?: string;
}

/** How a caller tries recordFailure (RunRecorder.recordFailure). */
export interface FailureTry {
  /**
   * The caller tries again when this try meets another program's lock (STORE_BUSY), as the
   * lock-waiting recorder does: a recorder that keeps a refused failure to write later must not
   * keep this one, or it could write it between two tries and the next try find the run ended.
   */
  retriedWhenBusy?: boolean;
}

/** The run beginRun would have opened, with what it was given (RunRecorder.recordRefusedStart). */
export interface RefusedStart {
  port: string;
  profile: string;
  startedAt: number;
  startedBy: RunStarter | undefined;
  device: RunDevice | undefined;
  /** As beginRun's `options.dps`. */
  dps?: RunDpsRecord;
  /** As beginRun's `options.operatorName`. */
  operatorName?: string;
}

/** How a run that did not pass ended, as recordFailure takes it. */
export type FailedRunOutcome = Parameters<RunRecorder['recordFailure']>[1];

/** A port whose latest run passed: the board that may still be on it after a restart. */
export interface PortPass {
  port: string;
  runId: number;
  serialNumber: string;
  model: string;
  registrationId: string;
  /** ISO 8601. */
  passedAt: string;
  /** How that run enrolled the board: what the board must still hold (holdsEarlierPass). */
  attestation: AttestationMode;
  /** A TPM run: the SHA-256 (hex) of the EK it checked and enrolled. */
  ekSha256?: string;
  /** An X.509 run: the leaf it issued (DER), whose key the board must still hold. */
  certificateDer?: Uint8Array;
}

/** A port whose board was held (RUN_REPEATED_FAILURE) when the station stopped. */
export interface PortHold {
  port: string;
  serialNumber: string;
  model: string;
  /** How many of the port's latest runs failed in a row on this board. */
  failures: number;
  /** The latest of those runs, with its own error. */
  runId: number;
  registrationId?: string;
  error: CodedError;
}

/** Which failures RunRecorder.failedRunsInARow counts. */
export interface FailedRunsQuery {
  serialNumber: string;
  model: string;
  port: string;
  beforeRunId: number;
  sinceMs: number;
  limit: number;
}

/**
 * What a run's certificate is recorded as issued for in the CA's ledger: how the store finds the
 * certificate of a run that a crash cut off before the run row learnt its serial.
 */
export function issuedForRun(runId: number): string {
  return `run:${runId}`;
}
