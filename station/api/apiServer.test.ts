import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startApiServer, type RunningApiServer } from './apiServer.js';
import { CLOSE_CODES, MAX_MESSAGE_BYTES } from './contract.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { networkExposureWarning, pageHost } from './sessionAccess.js';
import { StationClient } from './stationClient.js';
import { webSocketPipe } from './webSocketPipe.js';

const EXPECTED_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "style-src 'self'; script-src 'self'; frame-ancestors 'none'";

let rendererDir: string;
let outside: string;
let server: RunningApiServer;
let line: RecordingLine;
const logs: string[] = [];

beforeAll(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'renderer-'));
  outside = await mkdtemp(join(tmpdir(), 'outside-'));
  await mkdir(join(rendererDir, 'assets'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Line Station</title>');
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(rendererDir, 'assets', 'app.css'), 'body{}');
  await writeFile(join(rendererDir, '.env'), 'SECRET=1');
  await writeFile(join(outside, 'secret.txt'), 'outside the renderer');
  await symlink(join(outside, 'secret.txt'), join(rendererDir, 'assets', 'link.txt'));
  line = new RecordingLine();
  server = await startApiServer({ line, rendererDir, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await server.close();
  await rm(rendererDir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${server.port}`;
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

function openSocket(query: string, headers: { origin?: string } = { origin: origin() }) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, headers);
  sockets.push(ws);
  return ws;
}

/**
 * How the socket ended: a close code, the HTTP status the upgrade was refused with, or
 * `answered` when the station answered a snapshot sent on open (i.e. it was let in).
 */
function outcome(ws: WebSocket): Promise<{ close?: number; status?: number; answered?: true }> {
  return new Promise((resolve) => {
    ws.once('open', () =>
      ws.send(JSON.stringify({ id: 1, type: 'command', command: 'snapshot', args: {} })),
    );
    ws.once('message', () => resolve({ answered: true }));
    ws.once('close', (close) => resolve({ close }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => {});
  });
}

/** A raw GET that sends the path exactly as given (no client-side normalising of `..`). */
function get(
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startApiServer: the API socket', () => {
  it('binds 127.0.0.1 on an ephemeral port and puts a 32-byte token in the page URL', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(server.port, external.address);
        socket.once('connect', () => (socket.destroy(), resolve('connected')));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    }
  });

  it('closes with 4401 without a token or with a wrong one', async () => {
    expect(await outcome(openSocket(''))).toEqual({ close: CLOSE_CODES.unauthorized });
    const wrong = `${server.token.slice(0, -1)}${server.token.endsWith('A') ? 'B' : 'A'}`;
    expect(await outcome(openSocket(`?token=${wrong}`))).toEqual({
      close: CLOSE_CODES.unauthorized,
    });
    expect(line.calls).toEqual([]);
  });

  it('serves the API to a client that presents the token from the page origin', async () => {
    const ws = openSocket(`?token=${server.token}`);
    await new Promise((resolve) => ws.once('open', resolve));
    const client = new StationClient(webSocketPipe(ws));
    const snapshot = await client.call('snapshot');
    expect(snapshot.status.profile).toBe('demo-sensor');
    await client.call('provision', { slot: 2 });
    expect(line.calls).toContain('provision 2');
  });

  it.each([
    ['another site', () => 'http://evil.example'],
    ['another port', () => 'http://127.0.0.1:1'],
    ['https on the same host and port', () => `https://127.0.0.1:${server.port}`],
    ['a look-alike host', () => `http://127.0.0.1.evil.example:${server.port}`],
  ])('refuses the upgrade (403) from %s, even with the token', async (_name, from) => {
    expect(await outcome(openSocket(`?token=${server.token}`, { origin: from() }))).toEqual({
      status: 403,
    });
    expect(logs.some((l) => l.includes('refused a WebSocket from origin'))).toBe(true);
  });

  it('refuses a socket with no Origin header at all', async () => {
    expect(await outcome(openSocket(`?token=${server.token}`, {}))).toEqual({ status: 403 });
  });

  it('closes a socket that sends far more than the message limit', async () => {
    const ws = openSocket(`?token=${server.token}`);
    await new Promise((resolve) => ws.once('open', resolve));
    const ended = outcome(ws);
    ws.send('x'.repeat(5 * MAX_MESSAGE_BYTES));
    expect(await ended).toEqual({ close: 1009 });
  });
});

describe('startApiServer: the UI files', () => {
  it('serves index.html at / with the CSP and nosniff headers', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain(EXPECTED_CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<title>Line Station</title>');
    const withToken = await get(`/?token=${server.token}`);
    expect(withToken.status).toBe(200);
  });

  it.each([
    ['/assets/app.js', 'text/javascript; charset=utf-8'],
    ['/assets/app.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s with the CSP', async (path, type) => {
    const file = await get(path);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe(type);
    expect(file.headers['content-security-policy']).toContain(EXPECTED_CSP);
  });

  it.each([
    ['/../package.json', 400],
    ['/assets/../../package.json', 400],
    ['/%2e%2e/package.json', 400],
    ['/..%2fpackage.json', 400],
    ['/assets/%2e%2e%2f%2e%2e%2fpackage.json', 400],
    ['/..\\package.json', 400],
    ['/%00index.html', 400],
    ['/%E0%A4%A', 400],
    ['/assets/', 404],
    ['/assets', 404],
    ['/.env', 404],
    ['/assets/link.txt', 404],
    ['/missing.js', 404],
  ])('refuses %s with %i and shows nothing outside the UI', async (path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(response.body).not.toContain('"name"');
    expect(response.body).not.toContain('SECRET');
    expect(response.body).not.toContain('outside the renderer');
    expect(response.body).not.toContain('app.js');
    expect(response.headers['content-security-policy']).toContain(EXPECTED_CSP);
  });

  it('refuses methods other than GET and HEAD', async () => {
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/', method: 'POST' });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.end();
    });
    expect(status).toBe(405);
  });
});

describe('startApiServer: other hosts', () => {
  // Tests listen on 127.0.0.1 only: what a wider host changes is checked without listening.
  it('warns loudly when the host is not loopback, and prints a page URL that works here', async () => {
    expect(networkExposureWarning('0.0.0.0').join('\n')).toMatch(
      /WARNING: the station API listens on 0\.0\.0\.0/,
    );
    expect(networkExposureWarning('10.0.0.5')).toHaveLength(5);
    expect(pageHost('0.0.0.0')).toBe('127.0.0.1');
    expect(pageHost('::')).toBe('127.0.0.1');
    expect(pageHost('fd00::2')).toBe('[fd00::2]');
    expect(pageHost('10.0.0.5')).toBe('10.0.0.5');
    for (const loopback of ['127.0.0.1', '::1', 'localhost']) {
      expect(networkExposureWarning(loopback)).toEqual([]);
    }
    const quiet: string[] = [];
    const local = await startApiServer({ line, log: (l) => quiet.push(l) });
    await local.close();
    expect(quiet).toEqual([]);
  });

  it('rejects when the port is taken, and the first server keeps serving', async () => {
    await expect(startApiServer({ line, port: server.port, log: () => {} })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    expect((await get('/')).status).toBe(200);
  });

  it('says how to build the UI when it is missing', async () => {
    const bare = await startApiServer({ line, rendererDir: join(outside, 'nothing') });
    try {
      const response = await fetch(`http://127.0.0.1:${bare.port}/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build:renderer');
    } finally {
      await bare.close();
    }
  });
});
