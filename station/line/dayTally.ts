/**
 * How the line's runs of today ended, as the header of every UI shows it: what a technician reads
 * at a glance during a shift, and what a supervisor compares with the day's plan. "Today" is the
 * workstation's own day (local midnight to midnight), and a run belongs to the day it started
 * in, as the store counts it (`runs stats --since` answers any other window), so the count a
 * restart reads back is the count the line kept.
 */

/** Runs started today that ended, by how they ended. */
export interface RunCounts {
  passed: number;
  failed: number;
  cancelled: number;
}

/** The tally as the UI shows it: since when (ISO 8601, local midnight), and the counts. */
export interface DayTallyView extends RunCounts {
  since: string;
}

/** The counts the store holds of runs started at or after `sinceMs`; undefined if it cannot. */
export type StoredRunCounts = (sinceMs: number) => RunCounts | undefined;

export class DayTally {
  #dayStart: number | undefined;
  #counts: RunCounts = { passed: 0, failed: 0, cancelled: 0 };

  /**
   * @param stored reads the day's runs from the store, so that a restarted station goes on from
   *   the day's count instead of zero; without it (the DEMO's memory recorder) the day starts at
   *   zero with the station.
   */
  constructor(
    private readonly stored: StoredRunCounts | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts the day's count from what the store holds. The line calls it before any run of its
   * own can end, so no run is both read here and counted again by `count`.
   */
  load(): void {
    this.#startDay(startOfDay(this.now()));
  }

  /** One run ended (it is already in the store, when there is one); it started at `startedAt`. */
  count(state: 'pass' | 'fail' | 'cancelled', startedAt: number): void {
    const rolledOver = this.#rollOver();
    // A run of yesterday that ends after midnight is yesterday's.
    if (startedAt < this.#dayStart!) return;
    // The first run to end in a new day: the day's read from the store already holds it.
    if (rolledOver && this.stored !== undefined) return;
    if (state === 'pass') this.#counts.passed += 1;
    else if (state === 'fail') this.#counts.failed += 1;
    else this.#counts.cancelled += 1;
  }

  view(): DayTallyView {
    this.#rollOver();
    return { since: new Date(this.#dayStart!).toISOString(), ...this.#counts };
  }

  /**
   * Calls `onNewDay` a second past each local midnight (a timer may fire a little early, and the
   * new day must have begun), so every UI is told the tally started again, runs or not. Returns
   * what stops it. The timer never keeps the process alive.
   */
  everyMidnight(onNewDay: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        onNewDay();
        arm();
      }, this.msToNextDay() + 1_000);
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  }

  /** Milliseconds until the next local midnight. */
  msToNextDay(): number {
    const next = new Date(this.now());
    next.setHours(24, 0, 0, 0);
    return Math.max(0, next.getTime() - this.now());
  }

  /** True when the day turned since the last look (the counts restart). */
  #rollOver(): boolean {
    const today = startOfDay(this.now());
    if (today === this.#dayStart) return false;
    this.#startDay(today);
    return true;
  }

  #startDay(dayStart: number): void {
    this.#dayStart = dayStart;
    let counts: RunCounts | undefined;
    try {
      counts = this.stored?.(dayStart);
    } catch {
      // A store that cannot be read fails the line's own runs and says so there; the header
      // then counts from here rather than hiding the day.
    }
    this.#counts = counts ? { ...counts } : { passed: 0, failed: 0, cancelled: 0 };
  }
}

function startOfDay(ms: number): number {
  const day = new Date(ms);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}
