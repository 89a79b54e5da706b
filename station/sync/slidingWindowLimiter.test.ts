import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './slidingWindowLimiter.js';
import { ManualClock } from './testing/manualClock.js';

/** Requests one slot at each of `requestAt` (ms from now) and returns when each one started. */
async function startTimes(
  limiter: SlidingWindowLimiter,
  clock: ManualClock,
  requestAt: number[],
  extra = 0,
): Promise<number[]> {
  const t0 = clock.now();
  const started: number[] = [];
  requestAt.forEach((at, i) =>
    clock.setTimer(() => {
      void limiter.acquire().then(() => {
        started[i] = clock.now() - t0;
      });
    }, at),
  );
  const horizon =
    extra + (Math.max(0, ...requestAt) + 1) * 2 + limiter.limit.windowMs * requestAt.length;
  await clock.advance(horizon);
  return started;
}

describe('SlidingWindowLimiter', () => {
  it('never lets more than N calls start in any window, and makes no caller wait longer than needed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 1, maxLength: 40 }),
        async (operations, windowMs, times) => {
          const requestAt = [...times].sort((a, b) => a - b);
          const clock = new ManualClock();
          const limiter = new SlidingWindowLimiter({ operations, windowMs }, clock);
          const started = await startTimes(limiter, clock, requestAt);

          expect(started.filter((s) => s !== undefined)).toHaveLength(requestAt.length);
          // Safety: every window [s, s + windowMs) that opens at a start holds at most N starts
          // (a window holding the most starts can always be slid to open at one of them).
          for (const s of started) {
            const inWindow = started.filter((t) => t >= s && t < s + windowMs).length;
            expect(inWindow).toBeLessThanOrEqual(operations);
          }
          // Liveness and order: first come, first served, and a call waits only until its turn
          // and a slot of the window is free.
          requestAt.forEach((at, i) => {
            const slotFree = i >= operations ? started[i - operations]! + windowMs : 0;
            const turn = i > 0 ? started[i - 1]! : 0;
            expect(started[i]).toBe(Math.max(at, turn, slotFree));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lets N calls through at once, then one per freed slot', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 3, windowMs: 1_000 }, clock);
    const started = await startTimes(limiter, clock, [0, 0, 0, 0, 0, 10, 10]);
    expect(started).toEqual([0, 0, 0, 1_000, 1_000, 1_000, 2_000]);
  });

  it('holds every call until a time, then goes on within the window', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 2, windowMs: 100 }, clock);
    limiter.holdUntil(clock.now() + 5_000);
    expect(limiter.heldUntil).toBe(clock.now() + 5_000);
    const started = await startTimes(limiter, clock, [0, 1, 2], 5_000);
    expect(started).toEqual([5_000, 5_000, 5_100]);
    expect(limiter.heldUntil).toBe(0);
  });

  // NTP setting back a clock that ran an hour ahead: the hold (a Retry-After of five minutes)
  // and the window's slots were wall times, and no call started for an hour and five minutes.
  it('keeps a hold and the window as long as they were when the wall clock is set back', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 2, windowMs: 60_000 }, clock);
    await limiter.acquire();
    await limiter.acquire();
    limiter.holdUntil(clock.now() + 5 * 60_000);
    let startedAfter: number | undefined;
    const t0 = clock.now();
    void limiter.acquire().then(() => (startedAfter = clock.now() - t0));
    await clock.advance(60_000);
    clock.step(-60 * 60_000);
    expect(limiter.heldUntil).toBe(clock.now() + 4 * 60_000);
    await clock.advance(4 * 60_000 + 1);
    expect(startedAfter).toBe(5 * 60_000 - 60 * 60_000);
  });

  it('ends a hold early on clearHold', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 2, windowMs: 100 }, clock);
    limiter.holdUntil(clock.now() + 60_000);
    let started = false;
    void limiter.acquire().then(() => (started = true));
    await clock.advance(10);
    expect(started).toBe(false);
    limiter.clearHold();
    await clock.advance(0);
    expect(started).toBe(true);
  });

  it('drops an aborted waiter and serves the next one in its place', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 1, windowMs: 100 }, clock);
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    expect(limiter.waiting).toBe(2);
    controller.abort(new Error('stopped'));
    await expect(aborted).rejects.toThrow('stopped');
    expect(limiter.waiting).toBe(1);
    await clock.advance(100);
    await next;
    expect(limiter.waiting).toBe(0);
    await expect(limiter.acquire(controller.signal)).rejects.toThrow('stopped');
  });

  it('refuses a limit that would let nothing through', () => {
    const clock = new ManualClock();
    expect(() => new SlidingWindowLimiter({ operations: 0, windowMs: 1 }, clock)).toThrow();
    expect(() => new SlidingWindowLimiter({ operations: 1, windowMs: 0 }, clock)).toThrow();
  });
});
