/**
 * Clients that do not play by the rules, over raw sockets: none of them may take the station
 * down. Each test ends by checking the server still answers; a crash would also surface as an
 * uncaught error, which fails the run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startApiServer, type RunningApiServer } from './apiServer.js';
import { RecordingLine } from './recordingLine.test-double.js';

let rendererDir: string;
let server: RunningApiServer;
const logs: string[] = [];

beforeAll(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'renderer-'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Line Station</title>');
  server = await startApiServer({
    line: new RecordingLine(),
    rendererDir,
    log: (l) => logs.push(l),
  });
});
afterAll(async () => {
  await server.close();
  await rm(rendererDir, { recursive: true, force: true });
});

/** Sends a WebSocket upgrade for `target`; resolves with the socket and the first reply. */
async function upgrade(
  target: string,
  origin = `http://127.0.0.1:${server.port}`,
): Promise<{ socket: Socket; reply: string }> {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${origin}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const reply = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
  );
  return { socket, reply };
}

async function stillServing(): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.port}/`);
  expect(response.status).toBe(200);
}

describe('startApiServer: hostile clients', () => {
  it.each(['//', '//[', '//@/'])('refuses an upgrade to the target %s with 400', async (target) => {
    const { socket, reply } = await upgrade(target);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    socket.destroy();
    await stillServing();
  });

  it.each([
    ['a path that is not the API', '/nope', undefined],
    ['a foreign origin', '/api', 'http://evil.example'],
  ])('survives a client reset after refusing %s', async (_case, target, origin) => {
    const { socket, reply } = await upgrade(target, origin);
    expect(reply).toMatch(/^HTTP\/1\.1 40[34] /);
    socket.resetAndDestroy();
    await stillServing();
  });

  it('survives a bad frame from a socket refused for its token', async () => {
    const { socket, reply } = await upgrade('/api?token=wrong');
    expect(reply).toMatch(/^HTTP\/1\.1 101 /);
    // A masked frame with a reserved opcode (3): invalid at once.
    socket.write(Buffer.from([0x83, 0x80, 0x01, 0x02, 0x03, 0x04]));
    await new Promise((resolve) => socket.once('close', resolve));
    await stillServing();
  });

  it('logs the code of a refused message, never what the client sent', async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { origin });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answered = new Promise((resolve) => ws.once('message', resolve));
    ws.send('x\nslot 3 /dev/pts/5: PASS forged-device-0001\n');
    await answered;
    ws.terminate();
    expect(logs).toContain('station api: refused a message: API_BAD_MESSAGE');
    expect(logs.join('\n')).not.toContain('forged-device');
  });
});
