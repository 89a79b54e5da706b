/**
 * How this page reaches the station: the Electron preload's bridge when there is one, else a
 * WebSocket to the headless server that served the page, with the session token from the URL.
 */
import {
  STATION_BRIDGE_GLOBAL,
  type Disposer,
  type MessagePipe,
  type StationBridge,
} from '../../station/api/contract.js';

/** A pipe that can also say how it closed (a WebSocket close code; undefined otherwise). */
export interface StationPipe extends MessagePipe {
  closeCode(): number | undefined;
}

/** Why no pipe could be opened. */
export class NoPipeError extends Error {
  constructor(readonly problem: 'no-token' | 'unreachable') {
    super(problem);
  }
}

function bridge(): StationBridge | undefined {
  return (window as unknown as Record<string, StationBridge | undefined>)[STATION_BRIDGE_GLOBAL];
}

/**
 * Whether this page runs on the workstation itself: in the window, or loaded from a loopback
 * address. The page's own half of the unlock gate: together with the station's `unlockHere` it
 * decides whether a passphrase field is shown at all.
 */
export function pageOnWorkstation(): boolean {
  if (bridge()) return true;
  const host = window.location.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Opens a pipe to the station, or rejects with a NoPipeError. */
export function openStationPipe(): Promise<StationPipe> {
  const electron = bridge();
  if (electron) {
    // The MessagePort lives as long as the window: when the core restarts, main reloads the page.
    return Promise.resolve({
      send: (data) => electron.send(data),
      onMessage: (listener) => electron.onMessage(listener),
      close: () => {},
      closeCode: () => undefined,
    });
  }
  const token = new URLSearchParams(window.location.search).get('token');
  if (!token) return Promise.reject(new NoPipeError('no-token'));
  return openWebSocketPipe(`ws://${window.location.host}/api?token=${encodeURIComponent(token)}`);
}

/**
 * How long a link may take to open. The browser gives a connection that gets no answer (a page on
 * another machine behind a network that drops packets, a station host that went away without a
 * reset) minutes before it fails it, and the page would say "Connecting" all that time without
 * trying again. A station on a live network answers within a second or two.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

function openWebSocketPipe(url: string): Promise<StationPipe> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const closeListeners = new Set<() => void>();
    let code: number | undefined;
    // close() on a socket still connecting fails the attempt: its close event rejects below.
    const connecting = setTimeout(() => {
      if (socket.readyState === WebSocket.CONNECTING) socket.close();
    }, CONNECT_TIMEOUT_MS);
    socket.addEventListener('close', (event) => {
      clearTimeout(connecting);
      code = event.code;
      // Before `open` this settles the attempt as failed; after it, it is a disconnect.
      reject(new NoPipeError('unreachable'));
      for (const listener of [...closeListeners]) listener();
    });
    socket.addEventListener('open', () => {
      clearTimeout(connecting);
      resolve({
        send(data) {
          if (socket.readyState !== WebSocket.OPEN) return;
          socket.send(typeof data === 'string' ? data : JSON.stringify(data));
        },
        onMessage(listener): Disposer {
          const handler = (event: MessageEvent): void => listener(event.data);
          socket.addEventListener('message', handler);
          return () => socket.removeEventListener('message', handler);
        },
        onClose(listener): Disposer {
          closeListeners.add(listener);
          return () => closeListeners.delete(listener);
        },
        close: () => socket.close(1000),
        closeCode: () => code,
      });
    });
  });
}
