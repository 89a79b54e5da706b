import type { CodedError } from './lineTypes.js';
import type { RunOutcome } from './provisioningRun.js';
import { RunError, runErrorText } from './runErrors.js';
import type { PortHold, RunRecorder } from './runRecorder.js';
import { isStationFault } from './stationFaults.js';

/**
 * How many failed runs in a row of one device on one slot make auto mode stop starting it. A
 * device that fails and resets itself (a watchdog: its port goes and comes back) looks like the
 * next device, and would be run, and fail, for ever; one or two retries still cover the usual
 * bad contact or slow boot. runErrorText.RUN_REPEATED_FAILURE says this number to the operator.
 */
export const REPEATED_FAILURE_LIMIT = 3;

interface Device {
  serialNumber: string;
  model: string;
}

/**
 * How many runs of `device` on the slot's port failed in a row before run `beforeRunId`, as the
 * store recorded them (RunRecorder.failedRunsInARow).
 */
export type EarlierFailures = (device: Device, beforeRunId: number) => number;

/**
 * How far back earlier failures count. A device looping under its watchdog fails every few
 * seconds, and a restarted station is back within minutes; failures older than this belong to
 * an earlier attempt at the device, not to the loop.
 */
export const EARLIER_FAILURES_WINDOW_MS = 15 * 60_000;

/** EarlierFailures read from the store, for the slot of `port`; 0 when the store cannot say. */
export function earlierFailuresIn(recorder: RunRecorder, port: string): EarlierFailures {
  return (device, beforeRunId) => {
    try {
      return (
        recorder.failedRunsInARow?.({
          ...device,
          port,
          beforeRunId,
          sinceMs: Date.now() - EARLIER_FAILURES_WINDOW_MS,
          limit: REPEATED_FAILURE_LIMIT - 1,
        }) ?? 0
      );
    } catch {
      return 0; // a store that cannot answer leaves the count to this process, as before
    }
  };
}

/**
 * The failed runs in a row of one device on one slot. Only a device that said who it is counts:
 * a run that failed before IDENTIFY answered neither adds to the streak nor ends it, since
 * nothing tells whether that was the same device. Nor does a failure that is the station's
 * fault (isStationFault: its disk, its CA, a missing key): the board would fail the same way
 * however often it is reseated, and must not be held as the one to set aside. A PASS, a cancel
 * (someone is at the slot), a failure of another device and the operator's own start end it.
 */
export class FailureStreak {
  private device: Device | undefined;
  private count = 0;
  private last: { runId?: number; error: CodedError } | undefined;

  /**
   * `earlier` is asked once, at the slot's first failed run of a device that said who it is: a
   * station restarted while a device loops (a crash, a restart at the shift change) would
   * otherwise give it REPEATED_FAILURE_LIMIT more runs. Anything that ends a streak before then
   * (a PASS, a cancel, the operator's start) ends the need to ask.
   */
  constructor(private earlier?: EarlierFailures) {}

  /** The streak reached the limit: auto mode starts no run for this device by itself. */
  get holds(): boolean {
    return this.count >= REPEATED_FAILURE_LIMIT;
  }

  /** Whether `device` is the device the streak holds back. */
  holdsBack(device: Device): boolean {
    return this.holds && sameDevice(this.device, device);
  }

  /**
   * Counts a run that ended. Returns the error the slot shows instead of the run's own when this
   * run is the held device's latest failure, else undefined.
   */
  record(outcome: RunOutcome): CodedError | undefined {
    if (outcome.state !== 'fail') {
      this.reset();
      return undefined;
    }
    if (!outcome.device || isStationFault(outcome.error.code)) return undefined;
    const before = this.askEarlier(outcome.device, outcome.runId);
    if (!sameDevice(this.device, outcome.device)) {
      this.reset();
      this.device = { serialNumber: outcome.device.serialNumber, model: outcome.device.model };
    }
    this.count += 1 + before;
    this.last = {
      error: outcome.error,
      ...(outcome.runId !== undefined && { runId: outcome.runId }),
    };
    return this.holds ? this.heldError() : undefined;
  }

  /**
   * The line started with the slot's board held (PortHold, from the store): the streak holds it
   * again, so it gets no run until another board is on the port or the operator starts the
   * slot, as before the restart. Returns the error the slot shows while it holds.
   */
  restore(hold: PortHold): CodedError {
    this.reset();
    this.device = { serialNumber: hold.serialNumber, model: hold.model };
    this.count = hold.failures;
    this.last = { runId: hold.runId, error: hold.error };
    return this.heldError();
  }

  reset(): void {
    this.device = undefined;
    this.count = 0;
    this.last = undefined;
    this.earlier = undefined;
  }

  /** The failures before this run that the store knows of, the first time only; else 0. */
  private askEarlier(device: Device, runId: number | undefined): number {
    const earlier = this.earlier;
    this.earlier = undefined;
    if (earlier === undefined || runId === undefined) return 0;
    return earlier({ serialNumber: device.serialNumber, model: device.model }, runId);
  }

  /** What the slot shows while the streak holds: why it stopped, and the last run's own error. */
  private heldError(): CodedError {
    if (!this.last || !this.device) {
      return { code: 'RUN_REPEATED_FAILURE', message: runErrorText.RUN_REPEATED_FAILURE };
    }
    const { runId, error: last } = this.last;
    const run = runId === undefined ? 'the last run' : `run ${runId}`;
    return holdError(
      'RUN_REPEATED_FAILURE',
      `${this.device.serialNumber} failed ${this.count} runs in a row; ${run}`,
      last,
    );
  }
}

/**
 * The error a held slot shows: why auto mode stopped (`code`), then the last failure's own code
 * and text, which say what to check. `about` starts the log detail.
 */
export function holdError(
  code: 'RUN_REPEATED_FAILURE' | 'RUN_NO_ANSWER_REPEATED',
  about: string,
  last: CodedError,
): CodedError {
  return new RunError(code, `${about}: ${last.code}: ${last.detail ?? last.message}`, {
    // The UI shows the message and the code: the last failure's own text must be in the message.
    message: `${runErrorText[code]} Last failure (${last.code}): ${last.message}`,
  }).toJSON();
}

function sameDevice(a: Device | undefined, b: Device): boolean {
  return a !== undefined && a.serialNumber === b.serialNumber && a.model === b.model;
}
