/** The longest wait the client passes on; a larger Retry-After is more likely a bug than a plan. */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/**
 * A `Retry-After` header in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3),
 * capped at MAX_RETRY_AFTER_MS, never negative. Undefined when absent or unreadable.
 *
 * 0 ("0", or a date already past by this clock) is returned as such: it says DPS asks for no
 * wait of its own, not that the caller may retry at once, so callers keep their own backoff as
 * the floor (station/sync/failurePolicy.ts).
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    // DPS sends whole seconds; a fraction is tolerated rather than discarded.
    ms = Math.round(Number(text) * 1000);
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at) || !/[A-Za-z]/.test(text)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
