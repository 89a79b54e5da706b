/**
 * Clients that hold a valid token but try to wear the station down: a flood of garbage frames
 * (the station log), a flood of snapshots (the event loop the line shares), pongs written without
 * reading (the heartbeat), and more connections than a station needs. Every wait is bounded.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  heartbeatTick,
  startApiServer,
  watchHeartbeat,
  type HeartbeatSocket,
  type HeartbeatState,
  type RunningApiServer,
} from './apiServer.js';
import { MAX_COMMANDS_IN_FLIGHT } from './contract.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { MAX_REFUSED_MESSAGES } from './serveStationApi.js';
import type { SlotView } from '../line/lineTypes.js';

/** Counts how often a snapshot is built (each one reads every slot). */
class CountingLine extends RecordingLine {
  snapshots = 0;
  override slots(): SlotView[] {
    this.snapshots += 1;
    return super.slots();
  }
}

const HEARTBEAT_MS = 100;
const MAX_CONNECTIONS = 3;

let server: RunningApiServer;
let line: CountingLine;
const logs: string[] = [];

beforeAll(async () => {
  line = new CountingLine();
  server = await startApiServer({
    line,
    log: (l) => logs.push(l),
    heartbeatMs: HEARTBEAT_MS,
    maxConnections: MAX_CONNECTIONS,
  });
});
afterAll(async () => {
  await server.close();
});

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  // Let the server see the closes before the next test counts connections.
  await new Promise((resolve) => setTimeout(resolve, 50));
});

interface Frame {
  opcode: number;
  payload: Buffer;
}

/** A raw client past the upgrade: writes any bytes, and parses the station's frames. */
async function rawClient(): Promise<{
  socket: Socket;
  frames: Frame[];
  ended: Promise<void>;
  waitFor: (done: () => boolean, ms: number) => Promise<boolean>;
}> {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET /api?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
      `Origin: http://127.0.0.1:${server.port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const frames: Frame[] = [];
  let buffer = Buffer.alloc(0);
  let headerDone = false;
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!headerDone) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(buffer.subarray(0, end).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
      buffer = buffer.subarray(end + 4);
      headerDone = true;
    }
    // Unmasked frames from the station; 16-bit lengths are enough for these tests.
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) throw new Error('frame too large for this test client');
      if (buffer.length < offset + length) return;
      frames.push({ opcode, payload: buffer.subarray(offset, offset + length) });
      buffer = buffer.subarray(offset + length);
    }
  });
  await new Promise<void>((resolve) => {
    const check = (): void => (headerDone ? resolve() : void setTimeout(check, 5));
    check();
  });
  const waitFor = async (done: () => boolean, ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return done();
  };
  return { socket, frames, ended, waitFor };
}

/** A masked client frame (mask 0, so the payload goes as it is). */
function frame(opcode: number, text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('short frames only');
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

const snapshot = (id: number) =>
  frame(1, JSON.stringify({ id, type: 'command', command: 'snapshot', args: {} }));

function results(frames: Frame[]): { id: number | null; ok: boolean; error?: { code: string } }[] {
  return frames
    .filter((f) => f.opcode === 1)
    .map((f) => JSON.parse(f.payload.toString('utf8')) as { type: string })
    .filter((m) => m.type === 'result') as never;
}

const closeFrame = (frames: Frame[]) => frames.some((f) => f.opcode === 8);

describe('startApiServer: floods from a client with the token', () => {
  it('logs a garbage flood in two lines and closes the connection after the limit', async () => {
    const { socket, frames, waitFor } = await rawClient();
    const before = logs.length;
    socket.write(Buffer.concat(Array.from({ length: 500 }, () => frame(1, 'x'))));
    expect(await waitFor(() => closeFrame(frames), 3000)).toBe(true);
    expect(logs.slice(before)).toEqual([
      'station api: refused a message: API_BAD_MESSAGE',
      `station api: closed a connection after ${MAX_REFUSED_MESSAGES} refused messages ` +
        `(${MAX_REFUSED_MESSAGES - 1} of them not logged one by one)`,
    ]);
    // Nothing was answered after the limit.
    expect(results(frames)).toHaveLength(MAX_REFUSED_MESSAGES);
  });

  it('builds at most MAX_COMMANDS_IN_FLIGHT snapshots of a burst, refusing the rest', async () => {
    const { socket, frames, waitFor } = await rawClient();
    const built = line.snapshots;
    socket.write(Buffer.concat(Array.from({ length: 30 }, (_, i) => snapshot(i))));
    expect(await waitFor(() => results(frames).length === 30, 3000)).toBe(true);
    const answers = results(frames);
    expect(answers.filter((a) => a.ok)).toHaveLength(MAX_COMMANDS_IN_FLIGHT);
    expect(new Set(answers.filter((a) => !a.ok).map((a) => a.error?.code))).toEqual(
      new Set(['API_TOO_MANY_COMMANDS']),
    );
    expect(line.snapshots - built).toBe(MAX_COMMANDS_IN_FLIGHT);
    // Once answered, the connection may send again.
    socket.write(snapshot(99));
    expect(await waitFor(() => results(frames).some((a) => a.id === 99 && a.ok), 2000)).toBe(true);
  });

  it('runs no more snapshots once a flood of them got the connection closed', async () => {
    const { socket, frames, waitFor } = await rawClient();
    const built = line.snapshots;
    socket.write(Buffer.concat(Array.from({ length: 3000 }, (_, i) => snapshot(i))));
    expect(await waitFor(() => closeFrame(frames), 3000)).toBe(true);
    expect(line.snapshots - built).toBeLessThanOrEqual(MAX_COMMANDS_IN_FLIGHT);
  });
});

describe('startApiServer: heartbeat', () => {
  it('drops a client that writes pongs without ever echoing a ping', async () => {
    const { socket, frames, ended } = await rawClient();
    const pongs = setInterval(() => socket.write(frame(0xa, '')), HEARTBEAT_MS / 5);
    cleanups.push(() => clearInterval(pongs));
    const gone = await Promise.race([
      ended.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10 * HEARTBEAT_MS)),
    ]);
    expect(frames.some((f) => f.opcode === 9)).toBe(true);
    expect(gone).toBe(true);
  });

  it('keeps a client that answers every ping with its payload', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, {
      origin: `http://127.0.0.1:${server.port}`,
    });
    cleanups.push(() => ws.terminate());
    let pings = 0;
    ws.on('ping', () => (pings += 1));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await new Promise((resolve) => setTimeout(resolve, 10 * HEARTBEAT_MS));
    expect(pings).toBeGreaterThanOrEqual(5);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a socket whose send buffer stayed over the limit for a whole period', () => {
    const terminated: string[] = [];
    const pongListeners = new Map<string, (data: Buffer) => void>();
    const fake = (name: string, bufferedAmount: number) => {
      const socket = {
        name,
        bufferedAmount,
        pinged: undefined as Buffer | undefined,
        ping(data: Buffer) {
          socket.pinged = data;
        },
        terminate: () => terminated.push(name),
        on(_event: 'pong', listener: (data: Buffer) => void) {
          pongListeners.set(name, listener);
        },
      };
      return socket;
    };
    const beats = new WeakMap<HeartbeatSocket, HeartbeatState>();
    const stuck = fake('stuck', 10);
    const drained = fake('drained', 10);
    for (const s of [stuck, drained]) watchHeartbeat(s, beats);
    const answer = () => {
      for (const s of [stuck, drained]) pongListeners.get(s.name)?.(s.pinged!);
    };
    heartbeatTick([stuck, drained], beats, 5);
    answer();
    drained.bufferedAmount = 0;
    heartbeatTick([stuck, drained], beats, 5);
    expect(terminated).toEqual(['stuck']);
    answer();
    // A stale or empty pong does not count: only the latest payload does.
    pongListeners.get('drained')?.(Buffer.alloc(0));
    heartbeatTick([drained], beats, 5);
    pongListeners.get('drained')?.(Buffer.alloc(16));
    heartbeatTick([drained], beats, 5);
    expect(terminated).toEqual(['stuck', 'drained']);
  });
});

describe('startApiServer: connection cap', () => {
  function open(token = server.token): WebSocket {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${token}`, {
      origin: `http://127.0.0.1:${server.port}`,
    });
    ws.on('error', () => {});
    cleanups.push(() => ws.terminate());
    return ws;
  }
  const outcome = (ws: WebSocket) =>
    new Promise<{ open?: true; status?: number; close?: number }>((resolve) => {
      ws.once('open', () => resolve({ open: true }));
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      ws.once('close', (close) => resolve({ close }));
    });

  it('refuses a socket past the cap with 429, and lets one in once another left', async () => {
    const first = open();
    expect(await outcome(first)).toEqual({ open: true });
    for (let i = 1; i < MAX_CONNECTIONS; i++) expect(await outcome(open())).toEqual({ open: true });
    const before = logs.length;
    expect(await outcome(open())).toEqual({ status: 429 });
    expect(await outcome(open())).toEqual({ status: 429 });
    expect(logs.slice(before)).toEqual([
      `station serve: refused a WebSocket: ${MAX_CONNECTIONS} are connected already`,
    ]);
    // A socket without the token is not counted against the cap, nor refused for it.
    const tokenless = open('wrong');
    expect(await new Promise((resolve) => tokenless.once('close', resolve))).toBe(4401);
    const closed = new Promise((resolve) => first.once('close', resolve));
    first.close();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await outcome(open())).toEqual({ open: true });
  });
});
