import { holdError, REPEATED_FAILURE_LIMIT } from './failureStreak.js';
import type { CodedError } from './lineTypes.js';
import type { RunOutcome } from './provisioningRun.js';
import { isStationFault } from './stationFaults.js';

/**
 * How many times in a row the device on a slot may fail before it said who it is until auto
 * mode stops starting it. The same number as REPEATED_FAILURE_LIMIT, for the same reason: one
 * or two retries cover a bad contact or a slow boot; a third says the device, its cable or its
 * power is at fault. runErrorText.RUN_NO_ANSWER_REPEATED says this number to the operator.
 */
export const NO_ANSWER_LIMIT = REPEATED_FAILURE_LIMIT;

/**
 * The times in a row that the device on one slot went without answering INFO. A device that
 * drops or resets before it says who it is comes back as "the next device", and FailureStreak
 * cannot count it (nothing tells whether it is the same one), so it would be run, and fail, for
 * ever. This streak counts the port instead: whatever is on it has not answered that many times,
 * which is the technician's to check (cable, power, the device). Any answer to INFO (a run that
 * identified a device, a recheck that did), a PASS, a cancel (someone is at the slot) and the
 * operator's start end it.
 */
export class NoAnswerStreak {
  private count = 0;

  /** The streak reached the limit: auto mode starts nothing on the slot by itself. */
  get holds(): boolean {
    return this.count >= NO_ANSWER_LIMIT;
  }

  /**
   * Counts a run that ended. Returns the error the slot shows instead of the run's own when the
   * streak holds, else undefined.
   */
  record(outcome: RunOutcome): CodedError | undefined {
    if (outcome.state !== 'fail' || outcome.device) {
      this.reset();
      return undefined;
    }
    // The station's own fault (its store refused the run, say): nothing was asked of the device,
    // and "check its cable" would send the technician the wrong way. The code says what is wrong.
    if (isStationFault(outcome.error.code)) return undefined;
    return this.add(
      outcome.error,
      outcome.runId === undefined ? 'the last run' : `run ${outcome.runId}`,
    );
  }

  /**
   * Counts a held slot's check that got no answer and started no run (the device dropped while
   * asked): nothing else would count it, and the port's return would be checked again for ever.
   */
  recordUnansweredCheck(error: CodedError): CodedError | undefined {
    return this.add(error, 'the last check');
  }

  reset(): void {
    this.count = 0;
  }

  private add(error: CodedError, last: string): CodedError | undefined {
    this.count += 1;
    if (!this.holds) return undefined;
    return holdError(
      'RUN_NO_ANSWER_REPEATED',
      `no answer to INFO ${this.count} times in a row; ${last}`,
      error,
    );
  }
}
