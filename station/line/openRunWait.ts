import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';

/** A signal and the disposer of what it listens to. */
export interface WaitEnds {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * What ends a run's wait for another program's lock on the database before its run is opened:
 * the run's cancel or stop (`signal`, its reason), or its device gone (the session closed, its
 * error). Nothing was written to the device yet, so nothing needs the run to wait: waiting out
 * the lock (20 s) would keep the slot RUNNING on a cancelled run or an empty port, and a
 * stopping line waiting for it.
 */
export function openWaitEnds(
  signal: AbortSignal | undefined,
  session: DeviceSession | undefined,
): WaitEnds {
  const ends = new AbortController();
  const cancelled = (): void => ends.abort(signal?.reason);
  if (signal?.aborted === true) cancelled();
  else signal?.addEventListener('abort', cancelled, { once: true });
  if (session?.isClosed === true) {
    ends.abort(new WireError('WIRE_DISCONNECTED', 'the device link closed before its run opened'));
  }
  const stopWatching = session?.onClosed.on((err) => ends.abort(err));
  return {
    signal: ends.signal,
    dispose() {
      signal?.removeEventListener('abort', cancelled);
      stopWatching?.();
    },
  };
}
