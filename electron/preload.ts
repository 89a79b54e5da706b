/**
 * The only thing the sandboxed renderer gets from Electron: `window.stationBridge`, a relay to the
 * MessagePort main hands this page for the station core. No Node, no ipcRenderer, no other API.
 * Runs sandboxed, so it is bundled to CommonJS (dist/electron/preload.cjs) and imports only
 * `electron` and types.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { STATION_BRIDGE_GLOBAL, StationBridge } from '../station/api/contract.js';

/** Must equal the contract's name; the type annotation makes tsc check that. */
const BRIDGE_NAME: typeof STATION_BRIDGE_GLOBAL = 'stationBridge';
/** The IPC channel main sends the port on (see main.ts). */
const PORT_CHANNEL = 'station-port';
/** Messages the page may send before its port arrives; more means something is wrong. */
const MAX_QUEUED = 64;

/** The DOM MessagePort, described here because the Node-side tsconfig has no DOM library. */
interface PagePort {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

let port: PagePort | undefined;
const queued: unknown[] = [];
const listeners = new Set<(data: unknown) => void>();

ipcRenderer.on(PORT_CHANNEL, (event) => {
  const next = event.ports[0] as unknown as PagePort | undefined;
  if (!next) return;
  port?.close();
  port = next;
  next.onmessage = (message) => {
    for (const listener of [...listeners]) listener(message.data);
  };
  for (const message of queued.splice(0)) next.postMessage(message);
});

const bridge: StationBridge = {
  send(message) {
    // Only JSON-like data crosses; the core validates it again.
    if (typeof message !== 'string' && (typeof message !== 'object' || message === null)) return;
    if (port) port.postMessage(message);
    else if (queued.length < MAX_QUEUED) queued.push(message);
  },
  onMessage(listener) {
    if (typeof listener !== 'function') throw new TypeError('onMessage needs a function');
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_NAME, bridge);
