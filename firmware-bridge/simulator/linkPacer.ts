import { performance } from 'node:perf_hooks';

/** Bits a UART sends per byte at 8N1: start bit, 8 data bits, stop bit. */
export const UART_BITS_PER_BYTE = 10;

/** Milliseconds a UART at `baudRate` (8N1) needs for `bytes`; 0 for an unpaced link. */
export function uartMs(bytes: number, baudRate: number | undefined): number {
  return baudRate ? (bytes * UART_BITS_PER_BYTE * 1000) / baudRate : 0;
}

/**
 * Models one direction of a UART. Bytes written to a pty or socket arrive at once; a real line
 * needs 10 bits per byte, so each chunk is released only when its last byte would have finished
 * crossing the wire: `freeAt = max(now, freeAt) + n × 10 / baud`. Chunks keep their order.
 *
 * Release times are absolute (performance.now()), and each timer sleeps for what is left until
 * the next one, so timer lateness never accumulates over a long transfer.
 *
 * Times are the line's, not the host's: `push` may say when the bytes were really ready (a
 * device's answer is ready when its work time ends, however late the host's timer ran), and
 * `deliver` is told when the last byte really arrived. So a request's way through the simulated
 * device is late only by the host timer that finally releases its answer, not by every timer on
 * the way; a bench then measures the station, not the simulator's ms-granular timers.
 */
export class LinkPacer {
  private readonly msPerByte: number;
  private readonly queue: { bytes: Uint8Array; at: number }[] = [];
  private freeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param baudRate line rate; 0 or undefined passes bytes through at once.
   * @param deliver receives each chunk at its release time, in order, with the time (line time,
   *   performance.now() scale) its last byte arrived.
   */
  constructor(
    readonly baudRate: number | undefined,
    private readonly deliver: (bytes: Uint8Array, arrivedAt: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (baudRate !== undefined && (!Number.isFinite(baudRate) || baudRate < 0)) {
      throw new RangeError(`baudRate must be a positive number or 0, got ${baudRate}`);
    }
    this.msPerByte = uartMs(1, baudRate);
  }

  /** Bytes still on the wire. */
  get pendingBytes(): number {
    return this.queue.reduce((n, item) => n + item.bytes.length, 0);
  }

  /** @param readyAt when the bytes were ready to send (line time); default now. */
  push(bytes: Uint8Array, readyAt?: number): void {
    if (bytes.length === 0) return;
    if (this.msPerByte === 0) {
      this.deliver(bytes, readyAt ?? this.now());
      return;
    }
    this.freeAt = Math.max(readyAt ?? this.now(), this.freeAt) + bytes.length * this.msPerByte;
    this.queue.push({ bytes, at: this.freeAt });
    if (this.timer === undefined) this.schedule();
  }

  /** Drops whatever is still on the wire (unplug, or a reboot losing the UART FIFO). */
  clear(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.freeAt = 0;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, head.at - this.now()));
  }

  private release(): void {
    this.timer = undefined;
    const now = this.now();
    // Timers may fire a fraction of a millisecond early; such a chunk just waits for the next.
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { bytes, at } = this.queue.shift()!;
      this.deliver(bytes, at);
    }
    this.schedule();
  }
}
