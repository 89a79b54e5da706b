import { constants, performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * Waits for V8's memory reducer to finish after a busy phase, so a measurement that follows sees
 * the line's steady state rather than the end of that phase.
 *
 * When a process's allocation rate drops (here: the end of the bench's 64-slot warm-up), V8
 * compacts its heap some 30–50 s later (over a minute under some V8 flags) in two or three
 * major GCs, once. In a line that runs one slot all day this happens once, when the line slows
 * down; in the bench it fell inside the 1-slot row's window every time, adding 70–110 ms of GC
 * (1–1.7 ms per device of that row's 64) and measuring the row on the warm-up's scattered heap
 * until it did.
 *
 * Resolves once a major GC has been seen followed by `quietMs` without another, or after
 * `limitMs` in any case; returns what it saw, for the bench's log.
 */
export async function settleHeap(
  limitMs = 120_000,
  quietMs = 2_000,
): Promise<{ majorGcs: number; waitedMs: number }> {
  const started = performance.now();
  let majorGcs = 0;
  let lastMajorAt = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node 20 puts the GC kind in `detail`; its types do not declare it.
      const { detail } = entry as unknown as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        majorGcs++;
        lastMajorAt = performance.now();
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    // Bounded: at most limitMs / POLL_MS polls.
    for (;;) {
      const now = performance.now();
      if (now - started >= limitMs) break;
      if (majorGcs > 0 && now - lastMajorAt >= quietMs) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    observer.disconnect();
  }
  return { majorGcs, waitedMs: performance.now() - started };
}

const POLL_MS = 250;
