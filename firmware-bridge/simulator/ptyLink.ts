import { SerialPort } from 'serialport';
import { TypedEvent } from '../typedEvent.js';
import type { DeviceLink } from './deviceLink.js';
import { openPtyPair, type PtyPair } from './ptyPair.js';

/**
 * A device on a socat pty pair. The device opens its end with `serialport`, like firmware tests
 * on a real board; the host opens the other end as it would a USB serial adapter. Unplugging
 * kills socat, so the host's tty hangs up exactly as when a USB adapter is pulled: serialport
 * on the host side emits 'close' with a DisconnectedError (`disconnected: true`).
 */
export class PtyLink implements DeviceLink {
  readonly kind = 'pty';
  readonly onData = new TypedEvent<Uint8Array>();
  readonly onLost = new TypedEvent<Error>();
  private pair: PtyPair | undefined;
  private port: SerialPort | undefined;
  private lastHostPath = '';

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
    const port = new SerialPort({
      path: pair.devicePath,
      baudRate: this.baudRate,
      autoOpen: false,
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    } catch (err) {
      await pair.close();
      throw new Error(`cannot open device end ${pair.devicePath}: ${(err as Error).message}`);
    }
    port.on('data', (chunk: Buffer) => this.onData.emit(new Uint8Array(chunk)));
    // After unplug() these events are our own doing; before it, the link was lost.
    port.on('error', (err: Error) => this.lose(port, err));
    port.on('close', (err?: Error | null) => this.lose(port, err ?? new Error('tty closed')));
    void pair.exited.then(() => this.lose(port, new Error('socat exited')));
    this.pair = pair;
    this.port = port;
    this.lastHostPath = pair.hostPath;
    return pair.hostPath;
  }

  write(bytes: Uint8Array): void {
    const port = this.port;
    if (port?.isOpen) port.write(Buffer.from(bytes));
  }

  async unplug(): Promise<void> {
    const { pair, port } = this;
    this.pair = undefined;
    this.port = undefined;
    // Killing socat first makes the host see the hang-up, not an orderly close of our side.
    await pair?.close();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private lose(port: SerialPort, err: Error): void {
    if (this.port !== port) return;
    void this.unplug();
    this.onLost.emit(err);
  }
}
