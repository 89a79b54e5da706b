import type { SyncClock } from '../syncClock.js';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * A clock the test moves. Timers fire in time order (ties in the order they were set), each
 * with `now()` at its own time, and the microtask queue is drained after each so that promise
 * chains a timer starts can set their next timer before time moves on.
 */
export class ManualClock implements SyncClock {
  private time: number;
  /** What step() moved the wall clock by, in all. */
  private stepped = 0;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  constructor(start = Date.UTC(2026, 2, 1, 10)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Time moved by advance() only, never by step(). */
  monotonic(): number {
    return this.time - this.stepped;
  }

  setTimer(fire: () => void, ms: number): () => void {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fire };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /**
   * The wall clock is set back (negative) or forward by `ms`, as NTP steps a clock that ran
   * wrong: timers keep the time they have left, as setTimeout's do.
   */
  step(ms: number): void {
    this.time += ms;
    this.stepped += ms;
    for (const timer of this.timers) timer.at += ms;
  }

  /** When the next timer is due, or undefined when none is set. */
  get nextTimerAt(): number | undefined {
    return this.next()?.at;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. Returns how many fired. */
  async advance(ms: number): Promise<number> {
    const target = this.time + ms;
    let fired = 0;
    // Bounded: a timer that keeps re-arming itself at `now` cannot hold the test forever.
    for (let guard = 0; guard < 100_000; guard++) {
      const timer = this.next();
      if (timer === undefined || timer.at > target) break;
      this.timers.delete(timer);
      this.time = timer.at;
      timer.fire();
      fired++;
      await settle();
    }
    this.time = target;
    await settle();
    return fired;
  }

  /** Moves time to when the next timer is due and fires it (and any due at the same time). */
  async advanceToNextTimer(): Promise<number> {
    const at = this.nextTimerAt;
    if (at === undefined) throw new Error('no timer is set');
    return this.advance(at - this.time);
  }

  private next(): Timer | undefined {
    let first: Timer | undefined;
    for (const timer of this.timers) {
      if (!first || timer.at < first.at || (timer.at === first.at && timer.seq < first.seq)) {
        first = timer;
      }
    }
    return first;
  }
}

/** Lets pending promise callbacks run (one macrotask turn), without letting time pass. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
