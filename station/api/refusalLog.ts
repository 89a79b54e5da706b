/** Distinct origins remembered; past that, refusals of new origins are counted together. */
const MAX_ORIGINS = 64;

/**
 * The log of WebSockets refused for their origin, throttled: any page open in the workstation's
 * browser can try the station's address in a loop, and one line per try would rotate the
 * station log's real history (a cut-off run, an unlock) away within minutes. The first refusal
 * of an origin is logged at once; later ones at most once per `windowMs`, with how many were
 * refused since the last line.
 */
export function throttledRefusalLog(
  log: (line: string) => void,
  options: { windowMs?: number; now?: () => number } = {},
): (origin: string | undefined) => void {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, { loggedAt: number; since: number }>();
  return (origin) => {
    let key = JSON.stringify(origin ?? null);
    if (!seen.has(key) && seen.size >= MAX_ORIGINS) key = 'other origins';
    const at = now();
    const entry = seen.get(key);
    if (entry !== undefined && at - entry.loggedAt < windowMs) {
      entry.since += 1;
      return;
    }
    const more = entry && entry.since > 0 ? ` (and ${entry.since} more since the last line)` : '';
    log(`station serve: refused a WebSocket from origin ${key}${more}`);
    seen.set(key, { loggedAt: at, since: 0 });
  };
}
