import type { TypedEvent } from '../typedEvent.js';

/**
 * The device's end of its cable: a pty pair (the host opens a tty) or a listening TCP socket
 * (the host connects as to a serial device server). Raw bytes both ways.
 */
export interface DeviceLink {
  readonly kind: 'pty' | 'tcp';
  /** Where the host finds the device: `/dev/pts/7` or `tcp://127.0.0.1:40123`. */
  readonly hostPath: string;
  readonly isPlugged: boolean;
  /** Bytes from the host, as they arrive (unpaced). */
  readonly onData: TypedEvent<Uint8Array>;
  /** The link went away without unplug() (socat killed from outside, tty error). */
  readonly onLost: TypedEvent<Error>;
  /** Brings the link up; resolves with the host path once the host can open it. */
  plug(): Promise<string>;
  /** Sends bytes to the host; dropped when unplugged or when no host is connected. */
  write(bytes: Uint8Array): void;
  /** Takes the link away as a pulled cable does. Idempotent. */
  unplug(): Promise<void>;
  /** Unplugs for good and lets go of all the link held (the simulator's stop). */
  dispose(): Promise<void>;
}
