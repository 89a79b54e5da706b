/**
 * Electron main and its ports as the core process sees them, under plain Node: Node's
 * MessageChannel stands in for Electron's MessagePortMain (same messages, wrapped as `{ data }`
 * events), and FakeMain plays main. For tests of the core process only.
 */
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import type { MessagePipe } from '../contract.js';
import type { CorePort, CoreToMain, UiPort } from '../coreProtocol.js';

/** Node's MessagePort dressed as Electron's MessagePortMain. */
export function electronLike(port: MessagePort): UiPort {
  const wrapped = new Map<(e: { data: unknown }) => void, (data: unknown) => void>();
  return {
    on(event: 'message' | 'close', listener: ((e: { data: unknown }) => void) | (() => void)) {
      if (event === 'close') return port.on('close', listener as () => void);
      const handler = (data: unknown) => (listener as (e: { data: unknown }) => void)({ data });
      wrapped.set(listener as (e: { data: unknown }) => void, handler);
      return port.on('message', handler);
    },
    off(event: 'message' | 'close', listener: ((e: { data: unknown }) => void) | (() => void)) {
      if (event === 'close') return port.off('close', listener as () => void);
      const handler = wrapped.get(listener as (e: { data: unknown }) => void);
      return handler ? port.off('message', handler) : port;
    },
    postMessage: (message) => port.postMessage(message),
    start: () => port.start(),
    close: () => port.close(),
  } as UiPort;
}

/** The renderer's end of a window port, as a MessagePipe for StationClient. */
export function rendererPipe(port: MessagePort): MessagePipe {
  return {
    send: (data) => port.postMessage(data),
    onMessage(listener) {
      port.on('message', listener);
      return () => port.off('message', listener);
    },
    close: () => port.close(),
  };
}

/** Plays Electron main: sends to the core and awaits what it posts back, in order. */
export class FakeMain {
  readonly bus = new EventEmitter();
  readonly inbox: CoreToMain[] = [];
  readonly parentPort: CorePort = {
    on: (_event, listener) => this.bus.on('to-core', listener),
    postMessage: (message) => {
      this.inbox.push(message as CoreToMain);
      this.bus.emit('to-main');
    },
  };

  send(data: unknown, ports: UiPort[] = []): void {
    this.bus.emit('to-core', { data, ports });
  }

  async next(): Promise<CoreToMain> {
    while (this.inbox.length === 0)
      await new Promise((resolve) => this.bus.once('to-main', resolve));
    return this.inbox.shift() as CoreToMain;
  }
}
