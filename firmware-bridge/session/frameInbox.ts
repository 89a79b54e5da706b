import type { Frame } from '../codec/frame.js';
import { WireError } from '../codec/wireErrors.js';

/** The station's cancel error for a wait or request whose AbortSignal fired; the reason is for logs. */
export function abortedError(signal: AbortSignal | undefined): WireError {
  return new WireError('WIRE_ABORTED', String(signal?.reason ?? 'aborted'));
}

/** What `nextOrDamage` resolves with when a damaged frame arrived instead of a whole one. */
export const DAMAGED = 'damaged';

/**
 * Hands frames of the exchange in flight to whoever awaits them, with a timeout and an
 * AbortSignal. Frames that arrive while nobody waits are kept in order (the device may answer
 * faster than the host gets to await).
 */
export class FrameInbox {
  private readonly queue: Frame[] = [];
  private waiter: ((frame: Frame | WireError | typeof DAMAGED) => void) | undefined;
  private waiterHearsDamage = false;
  /** A damaged frame arrived since the last wait that hears of damage, or since `clear`. */
  private damagePending = false;
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

  /**
   * A frame arrived too damaged to read (CRC, stuffing, cut short): wakes a `nextOrDamage` wait,
   * now or, when none is waiting, the next one.
   */
  damaged(): void {
    if (this.waiter && this.waiterHearsDamage) {
      const w = this.waiter;
      this.waiter = undefined;
      w(DAMAGED);
    } else {
      this.damagePending = true;
    }
  }

  clear(): void {
    this.queue.length = 0;
    this.damagePending = false;
  }

  /** Resolves with the next frame, or null when `timeoutMs` passes first. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<Frame | null> {
    // Damage seen before or during this wait is not for a later one to act on.
    this.damagePending = false;
    return this.wait(timeoutMs, signal, false) as Promise<Frame | null>;
  }

  /**
   * `next`, but also resolves with DAMAGED as soon as a damaged frame arrives (or has arrived
   * since the last such wait): most likely the awaited answer, garbled on the line.
   */
  nextOrDamage(timeoutMs: number, signal?: AbortSignal): Promise<Frame | null | typeof DAMAGED> {
    // A whole frame first; a closed link or an abort is answered by `wait`.
    if (this.damagePending && this.queue.length === 0 && !this.closedError && !signal?.aborted) {
      this.damagePending = false;
      return Promise.resolve(DAMAGED);
    }
    return this.wait(timeoutMs, signal, true);
  }

  private wait(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    hearsDamage: boolean,
  ): Promise<Frame | null | typeof DAMAGED> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    this.waiterHearsDamage = hearsDamage;
    return new Promise<Frame | null | typeof DAMAGED>((resolve, reject) => {
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
        // Damage met while a chunk's ACK was awaited belongs to that wait, which has its answer.
        if (!hearsDamage) this.damagePending = false;
        if (value instanceof WireError) reject(value);
        else resolve(value);
      };
    });
  }
}
