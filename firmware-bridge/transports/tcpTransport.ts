import { Socket } from 'node:net';
import { WireError } from '../codec/wireErrors.js';
import type { Disposer } from '../typedEvent.js';
import type { Transport } from './transport.js';
import { TransportEvents } from './transportEvents.js';

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Connect timeout; a serial device server that is off the network fails fast. */
  connectTimeoutMs?: number;
}

/** Parses `tcp://host:port` (IPv6 as `tcp://[::1]:4001`); returns undefined for other paths. */
export function parseTcpPath(path: string): { host: string; port: number } | undefined {
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})\/?$/i.exec(path);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * A serial port behind a serial device server in raw TCP-server mode (ser2net, Moxa NPort and
 * similar): the socket carries the UART bytes unchanged.
 */
export class TcpTransport implements Transport {
  readonly path: string;
  private readonly events = new TransportEvents();
  private socket: Socket | undefined;
  private closing = false;

  constructor(private readonly options: TcpTransportOptions) {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.path = `tcp://${host}:${options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        socket.destroy();
        reject(
          new WireError('WIRE_SERVER_UNREACHABLE', `${this.path}: ${err.message}`, { cause: err }),
        );
      };
      socket.setTimeout(this.options.connectTimeoutMs ?? 5000, () =>
        fail(new Error('connect timeout')),
      );
      socket.once('error', fail);
      socket.connect(this.options.port, this.options.host, () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        resolve();
      });
    });
    // Small frames must not wait for Nagle's algorithm: latency is the whole point of the link.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    this.socket = socket;
    this.closing = false;
    this.events.rearm();
    socket.on('data', (chunk: Buffer) => this.events.emitData(chunk));
    socket.on('error', (err) => {
      if (!this.closing) this.events.emitClose(err);
    });
    socket.on('close', () => {
      this.events.emitClose(
        this.closing ? undefined : new Error('connection closed by the serial server'),
      );
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) throw new Error(`${this.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      socket.destroy();
    });
  }

  onData(listener: (bytes: Uint8Array) => void): Disposer {
    return this.events.onData(listener);
  }

  onClose(listener: (error?: Error) => void): Disposer {
    return this.events.onClose(listener);
  }
}
