import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TypedEvent } from '../typedEvent.js';
import type { DeviceLink } from './deviceLink.js';

/**
 * A device behind a serial device server in raw TCP-server mode (ser2net, Moxa NPort): one
 * listening port, raw UART bytes, one client at a time. A second client is refused while the
 * first is connected, as those servers do. Unplugging drops the client and stops listening;
 * replugging listens again on the same port.
 */
export class TcpLink implements DeviceLink {
  readonly kind = 'tcp';
  readonly onData = new TypedEvent<Uint8Array>();
  readonly onLost = new TypedEvent<Error>();
  private server: Server | undefined;
  private client: Socket | undefined;
  private port: number;

  /** @param port 0 for an ephemeral port, kept across unplug and replug once bound. */
  constructor(
    private readonly host: string,
    port: number,
  ) {
    this.port = port;
  }

  get hostPath(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `tcp://${host}:${this.port}`;
  }

  get isPlugged(): boolean {
    return this.server !== undefined;
  }

  /** True while a host is connected. */
  get hasClient(): boolean {
    return this.client !== undefined;
  }

  async plug(): Promise<string> {
    if (this.server !== undefined) return this.hostPath;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.onLost.emit(err));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.hostPath;
  }

  write(bytes: Uint8Array): void {
    const client = this.client;
    if (client !== undefined && !client.destroyed) client.write(bytes);
  }

  dispose(): Promise<void> {
    return this.unplug();
  }

  async unplug(): Promise<void> {
    const { server, client } = this;
    this.server = undefined;
    this.client = undefined;
    client?.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.client !== undefined || this.server === undefined) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.client = socket;
    socket.on('data', (chunk: Buffer) => this.onData.emit(new Uint8Array(chunk)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.client === socket) this.client = undefined;
    });
  }
}
