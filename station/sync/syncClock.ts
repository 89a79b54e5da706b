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
