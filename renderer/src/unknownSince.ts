/**
 * When the screen stopped being live for good, or for longer than a reconnect takes: from then
 * on the slots, the day's counts and the outbox are what the station last said, not what it is
 * doing, and a technician must not act on them (a "RUNNING" slot may have passed, failed or been
 * cut off by a restart). The banner says why; this says since when.
 */
import { useEffect, useRef, useState } from 'react';
import type { Connection } from './useStation.js';

/**
 * How long a dropped or silent link may last before the states shown count as unknown. A station
 * restart that keeps its token reconnects within a few seconds (the retries start at 0.5 s and
 * double): marking every card unknown for that blink would teach the technician to ignore it.
 */
export const RECONNECT_GRACE_MS = 5_000;

/** Links that never come back by themselves: the page must be opened from a new link. */
const FOR_GOOD: ReadonlySet<Connection> = new Set(['token-refused', 'no-token']);

/**
 * The time (ms) since which what the screen shows is unknown, or undefined while it is live or
 * within the grace. It counts from the moment the link was lost, not from the end of the grace.
 */
export function useUnknownSince(connection: Connection): number | undefined {
  const lostAt = useRef<number | undefined>(undefined);
  const [unknownSince, setUnknownSince] = useState<number>();
  useEffect(() => {
    if (connection === 'connected') {
      lostAt.current = undefined;
      setUnknownSince(undefined);
      return;
    }
    // The first connect: nothing is on screen yet to be stale.
    if (connection === 'connecting' && lostAt.current === undefined) return;
    const since = (lostAt.current ??= Date.now());
    const wait = FOR_GOOD.has(connection) ? 0 : since + RECONNECT_GRACE_MS - Date.now();
    const timer = setTimeout(() => setUnknownSince(since), Math.max(0, wait));
    return () => clearTimeout(timer);
  }, [connection]);
  return unknownSince;
}
