import { performance } from 'node:perf_hooks';
/**
 * Time as the sync worker sees it. Injected so that tests (and the limiter's property check) run
 * on a clock they move themselves instead of waiting for real backoffs and windows.
 */
export interface SyncClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fire` once after `ms`; the returned function cancels it. */
  setTimer(fire: () => void, ms: number): () => void;
  /** Milliseconds on a clock no one sets (performance.now()): tells elapsed time from a step. */
  monotonic?(): number;
}

/** The real clock. */
export const systemClock: SyncClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(fire, ms) {
    const timer = setTimeout(fire, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

/** Wall-clock moves below this are timer jitter, not a clock set back. */
const STEP_TOLERANCE_MS = 1_000;

/**
 * Sees the wall clock set back (NTP correcting one that ran ahead), which would stretch every
 * wait kept as a wall-clock time by the step. The step is the wall clock's move between two
 * looks less the time that passed (the monotonic clock's move); a step forward only shortens
 * waits and is not reported. A clock without monotonic time shows no step.
 */
export class WallClockSteps {
  private last: { now: number; monotonic: number } | undefined;

  constructor(private readonly clock: SyncClock) {}

  /** The wall clock's time, and how far it was set back since the last look (ms, 0 or less). */
  look(): { now: number; setBack: number } {
    const now = this.clock.now();
    const monotonic = this.clock.monotonic?.();
    if (monotonic === undefined) return { now, setBack: 0 };
    const last = this.last;
    this.last = { now, monotonic };
    if (last === undefined) return { now, setBack: 0 };
    const step = now - last.now - (monotonic - last.monotonic);
    return { now, setBack: step < -STEP_TOLERANCE_MS ? step : 0 };
  }

  /** How far the wall clock was set back since the last look (ms, 0 or less). */
  setBack(): number {
    return this.look().setBack;
  }
}
