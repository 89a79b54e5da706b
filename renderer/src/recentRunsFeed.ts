/**
 * When the recent-runs list asks the station again: once as it starts (the connection is up,
 * or the filter changed), then whenever a slot shows a run that ended and that the last answer
 * could not hold yet. A line of 64 slots can end several runs a second, so the list asks at most
 * once per `gapMs`: a run that ends meanwhile is fetched by one trailing ask, never dropped. An
 * ask that fails is made again by itself, after a pause that doubles up to MAX_RETRY_MS, so the
 * last failure of a shift shows up on an idle line too. One ask at a time; a feed that was
 * disposed (reconnect, new filter, a station that stopped answering) shows nothing more.
 */
import type {
  CommandArgs,
  CommandResult,
  RunViewPayload,
  SlotViewPayload,
} from '../../station/api/contract.js';
import { StationApiError } from '../../station/api/stationClient.js';

/** Why the list could not be read, as the panel says it. */
export interface RecentRunsProblem {
  message: string;
  code?: string;
}

export type RecentRunsUpdate = { runs: RunViewPayload[] } | { problem: RecentRunsProblem };

export interface RecentRunsFeedOptions {
  /** Asks the station (`recentRuns`). */
  load: (args: CommandArgs<'recentRuns'>) => Promise<CommandResult<'recentRuns'>>;
  /** Receives each answer, or why there was none. */
  show: (update: RecentRunsUpdate) => void;
  failedOnly: boolean;
  /** Least time from one ask to the next that a slot event starts; default 1 s. */
  gapMs?: number;
}

const ENDED = new Set<SlotViewPayload['state']>(['pass', 'fail', 'cancelled']);

/** The longest pause before an ask that failed is made again. */
export const MAX_RETRY_MS = 10_000;

/**
 * The most run ids the feed remembers as covered. A kiosk page stays connected for days, and a
 * busy line ends tens of thousands of runs a day: the oldest ids go first. A slot that still
 * shows a run forgotten this way costs one more ask if it is shown again, nothing else.
 */
export const MAX_COVERED_RUNS = 4_096;

export class RecentRunsFeed {
  readonly #options: RecentRunsFeedOptions;
  readonly #gapMs: number;
  /**
   * Runs an answer has covered (listed, or too old for the list), and runs the list of failures
   * has no row for. The runs of an ask that failed go back to #waiting.
   */
  readonly #known = new Set<number>();
  /** Runs seen ending since the last ask started: the next ask is for them. */
  readonly #waiting = new Set<number>();
  #asking = false;
  /** performance.now(): a pause must not grow when the wall clock is set back. */
  #lastAskAt = -Infinity;
  /** Asks that failed in a row: the next one waits longer, and is made without a new run. */
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(options: RecentRunsFeedOptions) {
    this.#options = options;
    this.#gapMs = options.gapMs ?? 1_000;
  }

  /**
   * Asks now. The runs `slots` already show as ended are in this answer if the list holds them,
   * so they start no ask of their own.
   */
  start(slots: readonly SlotViewPayload[]): void {
    for (const slot of slots) {
      const runId = endedRunId(slot);
      if (runId !== undefined) this.#known.add(runId);
    }
    this.#ask();
  }

  /** A slot changed: a run it shows as ended that the list has not covered is asked for. */
  slotChanged(slot: SlotViewPayload): void {
    const runId = endedRunId(slot);
    if (runId === undefined || this.#known.has(runId) || this.#waiting.has(runId)) return;
    // A pass is no row of a list of the runs that did not pass: nothing to ask for.
    if (this.#options.failedOnly && slot.state === 'pass') {
      this.#known.add(runId);
      this.#forgetOldest();
      return;
    }
    this.#waiting.add(runId);
    this.#askSoon();
  }

  /** How many run ids the feed remembers as covered (at most MAX_COVERED_RUNS, and some). */
  get coveredRuns(): number {
    return this.#known.size;
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Down to MAX_COVERED_RUNS, the first remembered first (the oldest runs, as they came). */
  #forgetOldest(): void {
    for (const runId of this.#known) {
      if (this.#known.size <= MAX_COVERED_RUNS) return;
      this.#known.delete(runId);
    }
  }

  #askSoon(): void {
    if (this.#disposed || this.#asking || this.#timer !== undefined) return;
    if (this.#waiting.size === 0 && this.#failures === 0) return;
    const pause =
      this.#failures === 0
        ? this.#gapMs
        : Math.min(MAX_RETRY_MS, this.#gapMs * 2 ** (this.#failures - 1));
    const wait = this.#lastAskAt + pause - performance.now();
    if (wait <= 0) return this.#ask();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ask();
    }, wait);
  }

  #ask(): void {
    if (this.#disposed) return;
    const asked = [...this.#waiting];
    this.#waiting.clear();
    this.#asking = true;
    this.#lastAskAt = performance.now();
    this.#options
      .load({ failedOnly: this.#options.failedOnly })
      .then(
        ({ runs }) => {
          if (this.#disposed) return;
          this.#failures = 0;
          // This ask started after they ended: its answer covers them, whatever it says.
          for (const runId of asked) this.#known.add(runId);
          for (const run of runs) this.#known.add(run.runId);
          this.#forgetOldest();
          this.#options.show({ runs });
        },
        (err: unknown) => {
          if (this.#disposed) return;
          this.#failures += 1;
          // The pause runs from the failure: a read that failed slowly (a timeout, a busy store)
          // is not made again at once.
          this.#lastAskAt = performance.now();
          for (const runId of asked) this.#waiting.add(runId);
          this.#options.show({ problem: problemOf(err) });
        },
      )
      .finally(() => {
        // A run that ended during this ask may have missed it, and a failed ask is made again.
        this.#asking = false;
        this.#askSoon();
      });
  }
}

/** The run a slot shows as ended, if it shows one. */
function endedRunId(slot: SlotViewPayload): number | undefined {
  return ENDED.has(slot.state) ? slot.runId : undefined;
}

function problemOf(err: unknown): RecentRunsProblem {
  if (err instanceof StationApiError) return { message: err.message, code: err.code };
  return { message: err instanceof Error ? err.message : String(err) };
}
