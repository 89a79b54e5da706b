import { setTimeout as sleep } from 'node:timers/promises';
import { WireError } from '../codec/wireErrors.js';
import { abortedError } from './frameInbox.js';

/** The first pause before a request refused with BUSY goes out again; it doubles up to the cap. */
const FIRST_PAUSE_MS = 20;
const MAX_PAUSE_MS = 500;

/**
 * Runs `attempt` until the device is free to take it. A request refused with BUSY was not
 * executed (PROTOCOL.md §6.2): the device is still finishing one the station gave up on, a
 * cancelled run's or a timed-out step's. So it is sent again, as a new request, with growing
 * pauses, until it is answered otherwise or `waitMs` has passed; then DEVICE_BUSY stands.
 */
export async function whenDeviceFree<T>(
  attempt: () => Promise<T>,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  // Set at the first BUSY: a request the device takes at once (every one, on a healthy line)
  // costs no clock read.
  let deadline: number | undefined;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof WireError && err.code === 'DEVICE_BUSY')) throw err;
      deadline ??= performance.now() + waitMs;
      if (performance.now() + pause > deadline) throw err;
    }
    try {
      await sleep(pause, undefined, { signal });
    } catch {
      throw abortedError(signal);
    }
  }
}
