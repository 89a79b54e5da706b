import { WireError } from '../codec/wireErrors.js';
import type { Disposer } from '../typedEvent.js';
import type { Transport } from './transport.js';
import { TransportEvents } from './transportEvents.js';

/**
 * In-process transport for unit tests: two linked ends, bytes delivered asynchronously (as a
 * real port would) and in order. `unplug()` simulates the cable being pulled.
 */
export class MockTransport implements Transport {
  private readonly events = new TransportEvents();
  private peer: MockTransport | undefined;
  private open_ = false;
  private unplugged = false;

  private constructor(readonly path: string) {}

  /** Two linked ends: what one writes, the other receives. */
  static pair(path = 'mock://device'): [host: MockTransport, device: MockTransport] {
    const host = new MockTransport(path);
    const device = new MockTransport(`${path}#device`);
    host.peer = device;
    device.peer = host;
    return [host, device];
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.unplugged) throw new WireError('WIRE_PORT_OPEN_FAILED', `${this.path}: unplugged`);
    this.open_ = true;
    this.events.rearm();
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.open_) throw new Error(`${this.path} is not open`);
    const copy = Uint8Array.from(bytes);
    const peer = this.peer;
    setImmediate(() => {
      if (peer?.open_) peer.events.emitData(copy);
    });
  }

  async close(): Promise<void> {
    if (!this.open_) return;
    this.open_ = false;
    this.events.emitClose();
  }

  /** Both ends lose the link, as when a USB cable is pulled. */
  unplug(): void {
    for (const end of [this, this.peer]) {
      if (!end) continue;
      end.unplugged = true;
      if (end.open_) {
        end.open_ = false;
        end.events.emitClose(new Error('device disconnected'));
      }
    }
  }

  onData(listener: (bytes: Uint8Array) => void): Disposer {
    return this.events.onData(listener);
  }

  onClose(listener: (error?: Error) => void): Disposer {
    return this.events.onClose(listener);
  }
}
