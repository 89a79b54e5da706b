import type { PassedRunRecord } from '../line/lineTypes.js';
import type {
  EarlierProvisioning,
  FailedRunOutcome,
  FailureTry,
  RunDevice,
  RunOpening,
  RunRecorder,
  RunStarter,
} from '../line/runRecorder.js';
import { DEFAULT_STORE_LOCK_WAIT, waitOutStoreLock, type StoreLockWait } from './storeLockWait.js';

/**
 * The line's recorder as a running station uses it: a run's write that meets another program's
 * lock on the station database waits for it on a timer (storeLockWait.ts), so the other slots go
 * on talking to their devices meanwhile, and the line never learns of the wait. Reads pass
 * straight through: WAL lets them past another program's write lock.
 */
export class LockWaitingRecorder implements RunRecorder {
  // The optional parts only where the wrapped recorder has them: the line reads their absence
  // as "not kept" (RunRecorder), and a stub here would say otherwise.
  readonly findEndorsementKeyElsewhere?: RunRecorder['findEndorsementKeyElsewhere'];
  readonly failedRunsInARow?: RunRecorder['failedRunsInARow'];
  readonly runCountsSince?: RunRecorder['runCountsSince'];
  readonly recentRuns?: RunRecorder['recentRuns'];
  readonly lastPassesByPort?: RunRecorder['lastPassesByPort'];
  readonly heldBoardsByPort?: RunRecorder['heldBoardsByPort'];
  readonly recordRefusedStart?: RunRecorder['recordRefusedStart'];
  readonly dataVersion?: RunRecorder['dataVersion'];

  constructor(
    private readonly recorder: RunRecorder,
    private readonly wait: StoreLockWait = DEFAULT_STORE_LOCK_WAIT,
  ) {
    this.findEndorsementKeyElsewhere = recorder.findEndorsementKeyElsewhere?.bind(recorder);
    this.failedRunsInARow = recorder.failedRunsInARow?.bind(recorder);
    this.runCountsSince = recorder.runCountsSince?.bind(recorder);
    this.recentRuns = recorder.recentRuns?.bind(recorder);
    this.lastPassesByPort = recorder.lastPassesByPort?.bind(recorder);
    this.heldBoardsByPort = recorder.heldBoardsByPort?.bind(recorder);
    // Never throws and never waits: a start refused under the lock is held, written later.
    this.recordRefusedStart = recorder.recordRefusedStart?.bind(recorder);
    this.dataVersion = recorder.dataVersion?.bind(recorder);
  }

  /** `options.signal` ends the wait: the run was cancelled or stopped, or its device went. */
  beginRun(
    port: string,
    profile: string,
    startedAt: number,
    startedBy?: RunStarter,
    device?: RunDevice,
    options: RunOpening = {},
  ): Promise<number> {
    return waitOutStoreLock(
      () => this.recorder.beginRun(port, profile, startedAt, startedBy, device, options),
      this.wait,
      options.signal,
    );
  }

  commitPass(
    record: PassedRunRecord,
    options?: { supersedes?: EarlierProvisioning },
  ): Promise<unknown> {
    return waitOutStoreLock(() => this.recorder.commitPass(record, options), this.wait);
  }

  /**
   * Unabortable: a cancel or a stop must not lose the record. Only the last refusal may be kept
   * by the store to write later: a kept one written between tries would fail the next try.
   */
  recordFailure(runId: number, outcome: FailedRunOutcome, options: FailureTry = {}): Promise<void> {
    return waitOutStoreLock(
      (lastTry) =>
        this.recorder.recordFailure(runId, outcome, {
          retriedWhenBusy: options.retriedWhenBusy === true || !lastTry,
        }),
      this.wait,
    );
  }

  findEarlierPass(
    query: Parameters<RunRecorder['findEarlierPass']>[0],
  ): EarlierProvisioning | undefined {
    return this.recorder.findEarlierPass(query);
  }

  outboxCounts(): ReturnType<RunRecorder['outboxCounts']> {
    return this.recorder.outboxCounts();
  }
}
