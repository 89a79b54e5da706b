import { autoDetect } from '@serialport/bindings-cpp';
import { LINE_8N1, type BindingInterface } from './bindingTypes.js';
import { SerialPortStream } from '@serialport/stream';
import { WireError } from '../codec/wireErrors.js';
import type { Disposer } from '../typedEvent.js';
import type { Transport } from './transport.js';
import { withHangupDetection } from './hangupAwareBinding.js';
import { TransportEvents } from './transportEvents.js';

export interface SerialTransportOptions {
  path: string;
  /** Default 115200; the link is always 8N1 without flow control (PROTOCOL.md §1). */
  baudRate?: number;
  /**
   * The serialport binding. Defaults to the OS binding; tests inject `@serialport/binding-mock`
   * so the same code runs without hardware.
   */
  binding?: BindingInterface;
}

/** A local serial port (USB CDC-ACM, USB-UART bridge, on-board UART, or a pty). */
export class SerialTransport implements Transport {
  readonly path: string;
  private readonly events = new TransportEvents();
  private readonly baudRate: number;
  private readonly binding: BindingInterface;
  private port: SerialPortStream | undefined;
  private closing = false;

  constructor(options: SerialTransportOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115_200;
    // The OS binding gets hang-up detection; an injected binding (tests, mocks) is used as given.
    this.binding = options.binding ?? withHangupDetection(autoDetect());
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const port = new SerialPortStream({
      binding: this.binding,
      path: this.path,
      baudRate: this.baudRate,
      ...LINE_8N1,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err)
          reject(
            new WireError('WIRE_PORT_OPEN_FAILED', `${this.path}: ${err.message}`, { cause: err }),
          );
        else resolve();
      });
    });
    this.port = port;
    this.closing = false;
    this.events.rearm();
    port.on('data', (chunk: Buffer) => this.events.emitData(chunk));
    // serialport reports an unplug as 'close' with a DisconnectedError; errors after that are noise.
    port.on('close', (err?: Error | null) => {
      this.events.emitClose(this.closing ? undefined : (err ?? new Error('port closed')));
    });
    port.on('error', (err: Error) => {
      if (!this.closing) this.events.emitClose(err);
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) throw new Error(`${this.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      port.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    this.closing = true;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  onData(listener: (bytes: Uint8Array) => void): Disposer {
    return this.events.onData(listener);
  }

  onClose(listener: (error?: Error) => void): Disposer {
    return this.events.onClose(listener);
  }
}
