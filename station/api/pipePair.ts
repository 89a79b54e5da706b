/**
 * Two connected in-memory pipes, for tests and for wiring a client to the API inside one process.
 * Delivery is asynchronous and in order, and objects are structured-cloned, as a MessagePort
 * would; closing either end closes both.
 */
import type { Disposer, MessagePipe } from './contract.js';

interface End {
  listeners: Set<(data: unknown) => void>;
  closeListeners: Set<() => void>;
}

/** Returns `[a, b]`: what is sent on `a` arrives at `b` and the other way round. */
export function createPipePair(): [MessagePipe, MessagePipe] {
  const ends: [End, End] = [
    { listeners: new Set(), closeListeners: new Set() },
    { listeners: new Set(), closeListeners: new Set() },
  ];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    queueMicrotask(() => {
      for (const end of ends) for (const listener of [...end.closeListeners]) listener();
    });
  };
  const pipe = (self: End, other: End): MessagePipe => ({
    send(data) {
      if (closed) return;
      const copy = typeof data === 'string' ? data : structuredClone(data);
      queueMicrotask(() => {
        if (closed) return;
        for (const listener of [...other.listeners]) listener(copy);
      });
    },
    onMessage(listener): Disposer {
      self.listeners.add(listener);
      return () => self.listeners.delete(listener);
    },
    onClose(listener): Disposer {
      self.closeListeners.add(listener);
      return () => self.closeListeners.delete(listener);
    },
    close,
  });
  return [pipe(ends[0], ends[1]), pipe(ends[1], ends[0])];
}
