import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './slidingWindowLimiter.js';
import { ManualClock } from './testing/manualClock.js';

interface Call {
  start: number;
  end: number;
}

/**
 * Requests one slot at each of `requestAt` (ms from now); each granted call reports its end
 * `durations[i]` ms after it started. Returns every call's start and end, in grant order.
 */
async function runCalls(
  limiter: SlidingWindowLimiter,
  clock: ManualClock,
  requestAt: number[],
  durations: number[],
): Promise<Call[]> {
  const t0 = clock.now();
  const calls: Call[] = [];
  requestAt.forEach((at, i) =>
    clock.setTimer(() => {
      void limiter.acquire().then((ended) => {
        const call = { start: clock.now() - t0, end: Number.NaN };
        calls.push(call);
        clock.setTimer(() => {
          call.end = clock.now() - t0;
          ended();
        }, durations[i]!);
      });
    }, at),
  );
  const longest = Math.max(0, ...durations);
  await clock.advance(
    Math.max(0, ...requestAt) + (limiter.limit.windowMs + longest + 1) * (requestAt.length + 1),
  );
  return calls;
}

describe('SlidingWindowLimiter: a call that reports its end', () => {
  it('keeps its slot until a window after its end', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ operations: 2, windowMs: 100 }, clock);
    const calls = await runCalls(limiter, clock, [0, 0, 0, 0], [30, 0, 0, 0]);
    // The second call ended at once and frees its slot at 100; the first ended at 30: 130.
    expect(calls.map((c) => c.start)).toEqual([0, 0, 100, 130]);
  });

  it('keeps any N+1 calls from reaching DPS within one window, whenever each arrives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 300 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000 }), fc.nat()), {
          minLength: 1,
          maxLength: 30,
        }),
        async (operations, windowMs, requests) => {
          const sorted = [...requests].sort((a, b) => a[0] - b[0]);
          const clock = new ManualClock();
          const limiter = new SlidingWindowLimiter({ operations, windowMs }, clock);
          // Calls shorter than the window, as DPS calls are (they time out within its minute).
          const calls = await runCalls(
            limiter,
            clock,
            sorted.map(([at]) => at),
            sorted.map(([, duration]) => duration % windowMs),
          );
          expect(calls).toHaveLength(requests.length);
          // DPS may count a call at any moment between its start and its end. N+1 calls can
          // share a window only if the last one to start did so less than a window after the
          // end of each of the N granted before it.
          calls.forEach((call, i) => {
            const close = calls
              .slice(0, i)
              .filter((earlier) => earlier.end > call.start - windowMs);
            expect(close.length).toBeLessThan(operations);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
