/**
 * Preload (`node --import`) that lets plain Node run the BUILT core, dist/electron/coreEntry.js,
 * as Electron's utilityProcess would: it installs `process.parentPort` and relays it over the
 * IPC channel of `child_process.fork`, so a test can play Electron main.
 *
 * Plain JavaScript on purpose: it runs in the child before anything else, with no TypeScript
 * loader, exactly as the built bundle does.
 *
 * IPC messages, both directions:
 * - `{ parent: message }`: the parent port. A `{ type: 'connect-ui' }` from the test also makes
 *   a MessageChannel here and hands one end to the core in `ports[0]`, dressed as Electron's
 *   MessagePortMain (events carry `{ data }`), as main hands a window's port over.
 * - `{ ui: data }`: the window's end of that channel (one window at a time).
 * - `{ uiClosed: true }`: the core closed the window's port.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';

if (!process.send) throw new Error('fakeParentPort: start the core with child_process.fork');

/** @param {unknown} message */
const toTest = (message) => void process.send?.(message);

/**
 * Node's MessagePort with the events and methods of Electron's MessagePortMain.
 * @param {import('node:worker_threads').MessagePort} port
 */
function messagePortMain(port) {
  const events = new EventEmitter();
  port.on('message', (data) => events.emit('message', { data, ports: [] }));
  port.on('close', () => events.emit('close'));
  return {
    on: (/** @type {string} */ event, /** @type {(...args: any[]) => void} */ listener) =>
      events.on(event, listener),
    off: (/** @type {string} */ event, /** @type {(...args: any[]) => void} */ listener) =>
      events.off(event, listener),
    postMessage: (/** @type {unknown} */ message) => port.postMessage(message),
    start: () => port.start(),
    close: () => port.close(),
  };
}

const parentPort = new EventEmitter();
/** @type {import('node:worker_threads').MessagePort | undefined} */
let windowEnd;
/**
 * Electron's parent port holds messages until the first 'message' listener starts it
 * (lib/utility/init.ts), and main may post `start` before the entry has loaded: so does this.
 * @type {{ data: unknown, ports: unknown[] }[] | undefined}
 */
let held = [];

Object.assign(parentPort, { postMessage: (/** @type {unknown} */ m) => toTest({ parent: m }) });
parentPort.on('newListener', (name) => {
  if (name !== 'message' || !held) return;
  const release = held;
  held = undefined;
  // 'newListener' fires before the listener is added.
  queueMicrotask(() => release.forEach((event) => parentPort.emit('message', event)));
});

process.on('message', (/** @type {{ parent?: { type?: string }, ui?: unknown }} */ message) => {
  if (message.ui !== undefined) return windowEnd?.postMessage(message.ui);
  if (message.parent === undefined) return;
  const ports = [];
  if (message.parent.type === 'connect-ui') {
    const { port1, port2 } = new MessageChannel();
    windowEnd?.close();
    windowEnd = port2;
    port2.on('message', (data) => toTest({ ui: data }));
    port2.on('close', () => toTest({ uiClosed: true }));
    ports.push(messagePortMain(port1));
  }
  const event = { data: message.parent, ports };
  if (held) held.push(event);
  else parentPort.emit('message', event);
});

Object.defineProperty(process, 'parentPort', { value: parentPort });
