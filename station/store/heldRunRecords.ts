import type { FailedRunOutcome, RefusedStart } from '../line/runRecorder.js';
import { StoreError, storeCodeOf, type StoreErrorCode } from './storeError.js';

/** A run the store refused to open, with how it ended: the refusal itself. */
export interface RefusedRun {
  start: RefusedStart;
  failure: FailedRunOutcome;
}

/** Refusals that pass with the condition (space freed, lock released): worth writing again. */
const PASSING: ReadonlySet<StoreErrorCode> = new Set(['STORE_WRITE_FAILED', 'STORE_BUSY']);
/** Records held at most, of each kind: past that, a refused one is lost, as before. */
const MAX_HELD = 1_000;

/**
 * The ends of runs the database refused to record (disk full, a lock), held and written before
 * the store's next write, which gets through once the condition has passed:
 *  - failures recordFailure could not write: without them the runs would stay `running` and
 *    their certificates `issued` until the next start closes them as interrupted, without their
 *    error and step log;
 *  - runs beginRun refused: without them a shift's record (runs list, the audit trail, Recent
 *    runs) missed every device refused at its start, and a restarted station's tally of the day
 *    counted fewer failures than the one before the restart.
 * Lost if the station stops first, like any crash.
 */
export class HeldRunRecords {
  private readonly failures = new Map<number, FailedRunOutcome>();
  private readonly refusedStarts: RefusedRun[] = [];

  constructor(
    private readonly write: {
      /** Ends a `running` run in one transaction; STORE_RUN_NOT_RUNNING once it ended. */
      failure(runId: number, outcome: FailedRunOutcome): void;
      /** Opens and fails a run in one transaction. */
      refusedStart(run: RefusedRun): void;
    },
  ) {}

  /** Keeps a failure recordFailure met `err` with, when `err` passes by itself. */
  holdFailure(runId: number, outcome: FailedRunOutcome, err: unknown): void {
    const passing = err instanceof StoreError && PASSING.has(err.code);
    // A copy: the caller goes on to note on its own object that the store refused it, which
    // the record written later must not say.
    if (passing && this.failures.size < MAX_HELD)
      this.failures.set(runId, structuredClone(outcome));
  }

  /** The run's failure is being written again (the line waits out a lock): this copy is stale. */
  forgetFailure(runId: number): void {
    this.failures.delete(runId);
  }

  /** Keeps a run beginRun refused, to be recorded as failed with its refusal. */
  holdRefusedStart(run: RefusedRun): void {
    if (this.refusedStarts.length < MAX_HELD) this.refusedStarts.push(structuredClone(run));
  }

  /**
   * Writes what is held, oldest first, each in its own transaction; never throws. Stops at the
   * first the database still refuses (the caller's own write reports the condition). A failure
   * that no longer applies (its run ended meanwhile), or a refused start that can never be
   * written (no store condition: a bug), is dropped.
   */
  writeAll(): void {
    while (this.refusedStarts.length > 0) {
      try {
        this.write.refusedStart(this.refusedStarts[0]!);
      } catch (err) {
        if (PASSING.has(storeCodeOf(err, 'STORE_READ_FAILED'))) return;
      }
      this.refusedStarts.shift();
    }
    for (const [runId, outcome] of this.failures) {
      try {
        this.write.failure(runId, outcome);
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'STORE_RUN_NOT_RUNNING')) return;
      }
      this.failures.delete(runId);
    }
  }
}
