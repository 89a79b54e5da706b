import { closeSync, constants, openSync } from 'node:fs';
import { TtySerialTransport } from '../transports/ttySerialTransport.js';
import { TypedEvent } from '../typedEvent.js';
import type { DeviceLink } from './deviceLink.js';
import { openPtyPair, type PtyPair } from './ptyPair.js';

/**
 * A device on a socat pty pair. The device opens its end as the station opens a local port
 * (the serialport binding sets the line, the bytes flow on the event loop), so dozens of
 * simulated devices cost the machine little next to the station they serve; the host opens the
 * other end as it would a USB serial adapter. Unplugging kills socat, so the host's tty hangs up
 * exactly as when a USB adapter is pulled.
 */
export class PtyLink implements DeviceLink {
  readonly kind = 'pty';
  readonly onData = new TypedEvent<Uint8Array>();
  readonly onLost = new TypedEvent<Error>();
  private pair: PtyPair | undefined;
  private port: TtySerialTransport | undefined;
  private lastHostPath = '';
  /**
   * A descriptor on each host tty this link made, held (never read) until dispose(). After an
   * unplug the tty is gone from /dev, as a pulled adapter's is, but its number stays taken: a pty
   * that another process makes meanwhile would otherwise get the same path, and a line still
   * watching the path would take it for a device plugged in and run on a stranger's tty.
   */
  private readonly heldNumbers: number[] = [];

  /** @param baudRate set on the device's tty; a pty ignores it, the pacer models the line. */
  constructor(private readonly baudRate: number) {}

  get hostPath(): string {
    return this.lastHostPath;
  }

  get isPlugged(): boolean {
    return this.port !== undefined;
  }

  async plug(): Promise<string> {
    if (this.port !== undefined) return this.lastHostPath;
    const pair = await openPtyPair();
    const port = new TtySerialTransport({ path: pair.devicePath, baudRate: this.baudRate });
    try {
      await port.open();
    } catch (err) {
      await pair.close();
      throw new Error(`cannot open device end ${pair.devicePath}: ${(err as Error).message}`);
    }
    port.onData((chunk) => this.onData.emit(chunk));
    // After unplug() a close is our own doing; before it, the link was lost.
    port.onClose((err) => this.lose(port, err ?? new Error('tty closed')));
    void pair.exited.then(() => this.lose(port, new Error('socat exited')));
    this.holdNumber(pair.hostPath);
    this.pair = pair;
    this.port = port;
    this.lastHostPath = pair.hostPath;
    return pair.hostPath;
  }

  async dispose(): Promise<void> {
    await this.unplug();
    for (const fd of this.heldNumbers.splice(0)) closeSync(fd);
  }

  write(bytes: Uint8Array): void {
    const port = this.port;
    // A write racing a hang-up fails; the close event reports the loss.
    if (port?.isOpen) port.write(bytes).catch(() => undefined);
  }

  async unplug(): Promise<void> {
    const { pair, port } = this;
    this.pair = undefined;
    this.port = undefined;
    // Killing socat first makes the host see the hang-up, not an orderly close of our side.
    await pair?.close();
    await port?.close();
  }

  private holdNumber(hostPath: string): void {
    try {
      this.heldNumbers.push(
        openSync(hostPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK),
      );
    } catch {
      // Not held: only the reuse of its number is left to chance.
    }
  }

  private lose(port: TtySerialTransport, err: Error): void {
    if (this.port !== port) return;
    void this.unplug();
    this.onLost.emit(err);
  }
}
