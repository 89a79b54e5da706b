import { WallClockSteps, type SyncClock } from './syncClock.js';

/** At most `operations` calls may start in any `windowMs` span. */
export interface RateLimit {
  operations: number;
  windowMs: number;
}

/**
 * DPS allows 1,000 service operations per minute per DPS instance, every call counted
 * (dps-protocol.md §3); the station spends all of it only if nothing else uses that DPS.
 */
export const DPS_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({
  operations: 1_000,
  windowMs: 60_000,
});

interface Waiter {
  resolve(ended: CallEnded): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** Tells the limiter a granted call has ended (answered, failed or abandoned). */
export type CallEnded = () => void;

/**
 * A strict sliding-window limiter: it remembers the start time of the last `operations` calls
 * and lets a call start only when fewer than `operations` started in the `windowMs` before it, so
 * no window of that length, wherever it is placed, holds more. (A fixed-window counter would let
 * twice the limit through around a window boundary.) Callers are served first come, first served.
 *
 * A caller that reports its call's end (the function `acquire` resolves with) keeps the slot
 * until `windowMs` after the END instead: DPS counts a call when it arrives, somewhere between
 * our start and our end, and arrival delays vary, so two calls started exactly `windowMs` apart
 * can arrive less than `windowMs` apart and land in one DPS window with 1,000 others. Counting
 * from the end keeps any two calls `operations` apart at least `windowMs` apart on arrival, in
 * any window DPS places, for the price of one call's duration per window. (A call longer than
 * the window frees its slot at start + window; DPS calls time out well within DPS's minute.)
 *
 * `holdUntil` stops every call until a time, for DPS's Retry-After, which is about the whole
 * service and not about the call that received it.
 */
export class SlidingWindowLimiter {
  /** The calls still inside the window: start time, or end time once ended; at most `operations`. */
  private slots: { at: number }[] = [];
  private readonly waiters: Waiter[] = [];
  private cancelTimer: (() => void) | undefined;
  private hold = 0;
  /** Sees the wall clock set back between two looks. */
  private readonly steps: WallClockSteps;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: SyncClock,
  ) {
    if (!Number.isInteger(limit.operations) || limit.operations < 1) {
      throw new RangeError('limit.operations must be a positive integer');
    }
    if (!(limit.windowMs > 0)) throw new RangeError('limit.windowMs must be positive');
    this.steps = new WallClockSteps(clock);
  }

  /**
   * Resolves when the caller may start one call, with the function to call when it has ended;
   * rejects with the signal's reason on abort.
   */
  acquire(signal?: AbortSignal): Promise<CallEnded> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<CallEnded>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason);
          this.pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** No call starts before `time` (ms since epoch). A later hold replaces an earlier one. */
  holdUntil(time: number): void {
    this.now();
    this.hold = Math.max(this.hold, time);
    this.pump();
  }

  /**
   * Ends a hold early (a supervisor's "sync now" while offline), but never before `keepUntil`:
   * a Retry-After DPS sent stands.
   */
  clearHold(keepUntil = 0): void {
    this.hold = keepUntil;
    this.pump();
  }

  /** The time calls are held until, or 0 when they are not. */
  get heldUntil(): number {
    return this.hold > this.now() ? this.hold : 0;
  }

  /**
   * The clock's time. A wall clock set back (NTP correcting one that ran ahead) would stretch
   * every hold and window slot by the step, an hour's step an hour without a call: they move
   * back with it, keeping what they had left. The step is the wall clock's move less the time
   * that passed (the clock's monotonic time); a step forward only shortens them, and is left.
   */
  private now(): number {
    const { now, setBack } = this.steps.look();
    if (setBack < 0) {
      if (this.hold > 0) this.hold += setBack;
      for (const slot of this.slots) slot.at += setBack;
    }
    return now;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const { operations, windowMs } = this.limit;
    // Bounded: each turn either serves a waiter or leaves the loop.
    while (this.waiters.length > 0) {
      const now = this.now();
      // A slot at `now - windowMs` no longer shares any window of that length with `now`.
      // Ended calls move their slot later, so the slots are not in time order: look at all.
      this.slots = this.slots.filter((slot) => slot.at > now - windowMs);
      if (this.hold > now) {
        this.wakeAt(this.hold, now);
        return;
      }
      if (this.slots.length >= operations) {
        const oldest = this.slots.reduce((at, slot) => Math.min(at, slot.at), Infinity);
        this.wakeAt(oldest + windowMs, now);
        return;
      }
      const waiter = this.waiters.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      const slot = { at: now };
      this.slots.push(slot);
      waiter.resolve(() => {
        slot.at = Math.max(slot.at, this.now());
      });
    }
  }

  private wakeAt(time: number, now: number): void {
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.pump();
    }, time - now);
  }
}
