/**
 * Whether the station still answers. A station whose process hangs (a stuck loop, a stopped
 * process, a frozen machine) keeps its socket or port open, so the pipe never closes and a UI
 * would go on showing the last slots it heard of as live. The UI pings it instead and says so
 * when an answer is late; the next answer, however late, says it is back.
 *
 * Browser-safe: imports nothing but the contract and the client.
 */
import type { Disposer } from './contract.js';
import type { StationClient } from './stationClient.js';

export interface HeartbeatOptions {
  /** How often to ask (default 2 s). */
  intervalMs?: number;
  /**
   * How long an unanswered ping may wait before the station counts as not answering (default
   * 6 s). Far above what a healthy station takes, which is its event-loop lag: milliseconds.
   */
  lateMs?: number;
}

export const HEARTBEAT_DEFAULTS: Required<HeartbeatOptions> = { intervalMs: 2000, lateMs: 6000 };

/**
 * Pings the station over `client` until the disposer is called or the client closes, and calls
 * `onChange(false)` when a ping stays unanswered for `lateMs`, `onChange(true)` when an answer
 * comes after that. One ping is out at a time, so a long hang does not queue thousands of them.
 * Lateness is measured from the ping, not from the last tick: a browser that throttles the
 * timers of a hidden tab must not mistake its own slowness for the station's.
 */
export function watchStationHeartbeat(
  client: StationClient,
  onChange: (answering: boolean) => void,
  options: HeartbeatOptions = {},
): Disposer {
  const { intervalMs, lateMs } = { ...HEARTBEAT_DEFAULTS, ...options };
  let answering = true;
  let sentAt: number | undefined;
  let stopped = false;

  const report = (value: boolean): void => {
    if (stopped || value === answering) return;
    answering = value;
    onChange(value);
  };

  const beat = (): void => {
    if (client.closed) return stop();
    if (sentAt !== undefined) {
      if (Date.now() - sentAt >= lateMs) report(false);
      return;
    }
    const at = Date.now();
    sentAt = at;
    // A ping the client gave up on (its command timeout) frees the slot for the next one; a
    // disconnect is the reconnect logic's business, not this watch's.
    client
      .call('ping')
      .then(
        () => report(true),
        () => {},
      )
      .finally(() => {
        if (sentAt === at) sentAt = undefined;
      });
  };

  const timer = setInterval(beat, intervalMs);
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
  };
  return stop;
}
