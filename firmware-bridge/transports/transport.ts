import type { Disposer } from '../typedEvent.js';

/**
 * How long a write may wait without the device taking any of its bytes. A device at 9600 baud
 * takes about 2 KB in that time; one whose firmware stopped reading takes nothing, ever, and its
 * link is reported lost (WIRE_TIMEOUT) rather than leaving its run waiting on the write. The tty
 * transport watches progress against it; the session bounds every write with it
 * (session/writeDeadline.ts).
 */
export const STALL_MS = 2_000;

/**
 * A byte pipe to one device: a local serial port, a serial device server over TCP, or an
 * in-process mock. The session above it knows nothing of which.
 */
export interface Transport {
  /** Where the device is, as an operator would write it: `/dev/ttyUSB3`, `COM7`, `tcp://10.0.0.5:4001`. */
  readonly path: string;
  readonly isOpen: boolean;
  /**
   * Opens the link; rejects with a WireError `WIRE_PORT_OPEN_FAILED` (a local port), or
   * `WIRE_SERVER_UNREACHABLE` (a serial device server that did not take the connection).
   */
  open(): Promise<void>;
  /** Queues bytes for the device; resolves once the OS accepted them. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the link on purpose. Idempotent. */
  close(): Promise<void>;
  /** Bytes from the device, in arrival order. */
  onData(listener: (bytes: Uint8Array) => void): Disposer;
  /**
   * The link closed. `error` is set when it closed by itself (unplug, server gone), unset when
   * `close()` was called.
   */
  onClose(listener: (error?: Error) => void): Disposer;
}
