import type { Frame } from '../codec/frame.js';
import { WireError } from '../codec/wireErrors.js';

/** The station's cancel error for a wait or request whose AbortSignal fired; the reason is for logs. */
export function abortedError(signal: AbortSignal | undefined): WireError {
  return new WireError('WIRE_ABORTED', String(signal?.reason ?? 'aborted'));
}

/**
 * Hands frames of the exchange in flight to whoever awaits them, with a timeout and an
 * AbortSignal. Frames that arrive while nobody waits are kept in order (the device may answer
 * faster than the host gets to await).
 */
export class FrameInbox {
  private readonly queue: Frame[] = [];
  private waiter: ((frame: Frame | WireError) => void) | undefined;
  private closedError: WireError | undefined;

  deliver(frame: Frame): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(frame);
    } else {
      this.queue.push(frame);
    }
  }

  /** Fails the current and every later wait, e.g. when the link is gone. */
  fail(error: WireError): void {
    this.closedError = error;
    this.queue.length = 0;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(error);
    }
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** Resolves with the next frame, or null when `timeoutMs` passes first. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<Frame | null> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(new WireError('WIRE_ABORTED'));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Frame | null>((resolve, reject) => {
      const onAbort = (): void => {
        cleanup();
        reject(abortedError(signal));
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(null);
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (value) => {
        cleanup();
        if (value instanceof WireError) reject(value);
        else resolve(value);
      };
    });
  }
}
