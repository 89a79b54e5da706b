import type { WireError } from '../codec/wireErrors.js';
import { abortedError } from './frameInbox.js';

/**
 * Bounds a transport write. A device that stops taking bytes (hung firmware behind a serial
 * device server, whose TCP send window closes; a full tty buffer) leaves the write pending for
 * good: no transport but the tty one notices, and every timeout and cancel of a request sits
 * around its waits for frames, not around its writes. So the write is raced here, for every
 * transport, against `deadlineMs` and the request's `signal`.
 *
 * The bound is on the whole write, not on its progress as the tty transport watches: a device
 * that holds flow control (RTS/CTS, a serial server's window) for longer than that is taken for
 * stalled, on purpose. The wire protocol's device keeps reading while it works (a flash erase
 * included) and answers BUSY, so a frame that waits seconds to be taken means a hung device.
 *
 * The normal write costs one Immediate, cleared when the write completes first: the OS takes a
 * frame at once, and the write resolves a tick later. A write still pending when the Immediate
 * runs (the loop turned, so the OS did not take the bytes at once) gets the timer and the abort
 * listener, both removed however it ends.
 */
export function writeWithin(
  writing: Promise<void>,
  deadlineMs: number,
  signal: AbortSignal | undefined,
  stalled: () => WireError,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let verdict: NodeJS.Immediate | undefined;
    const stop = (): void => {
      clearImmediate(slow);
      clearTimeout(timer);
      if (verdict) clearImmediate(verdict);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      stop();
      reject(abortedError(signal));
    };
    const slow = setImmediate(() => {
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        // The verdict waits one more loop turn: after a blocked loop the timers run before the
        // poll phase that may hold the write's completion.
        verdict = setImmediate(() => {
          stop();
          reject(stalled());
        });
      }, deadlineMs);
    });
    writing.then(
      () => {
        stop();
        resolve();
      },
      (err: unknown) => {
        stop();
        reject(err as Error);
      },
    );
  });
}
