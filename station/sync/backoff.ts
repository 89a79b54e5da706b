/** Exponential backoff bounds: the first retry waits up to `baseMs`, no wait exceeds `capMs`. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Base 1 s, cap 5 min: a DPS outage of hours costs a few calls per quarter hour, not thousands. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  baseMs: 1_000,
  capMs: 5 * 60_000,
});

/**
 * "Full jitter" backoff: a uniform wait in [0, min(cap, base * 2^(attempt-1))]. Spreading the
 * whole range (not only a small jitter around the exponential value) keeps stations that lost
 * DPS at the same moment from coming back in lockstep.
 *
 * @param attempt 1 for the first retry.
 * @param random a uniform number in [0, 1), injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  // 2^30 already exceeds any sensible cap; bounding the exponent keeps the number finite.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * (ceiling + 1));
}
