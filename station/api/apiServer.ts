/**
 * The headless station's web server: the built UI over HTTP and the station API over a WebSocket
 * at `/api`, on 127.0.0.1 unless told otherwise. The same contract and handlers serve the
 * Electron MessagePort, so a browser on `station serve` sees exactly what the desktop app sees.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LineController } from '../line/lineController.js';
import { commandHandlers, lineEvents, type EventSource } from './commandHandlers.js';
import { CLOSE_CODES, MAX_MESSAGE_BYTES } from './contract.js';
import { throttledRefusalLog } from './refusalLog.js';
import { serveStationApi } from './serveStationApi.js';
import {
  createSessionToken,
  isLoopbackPeer,
  networkExposureWarning,
  originAllowed,
  pageHost,
  tokenMatches,
} from './sessionAccess.js';
import { resolveStaticFile, securityHeaders } from './staticFiles.js';
import { MAX_BUFFERED_BYTES, webSocketPipe } from './webSocketPipe.js';

/** How often every WebSocket is pinged; one that did not answer the last ping is dropped. */
export const HEARTBEAT_MS = 30_000;

/**
 * WebSockets (past the token check) served at once; more are refused at upgrade with 429. A
 * station has a window or two open and maybe a supervisor's browser: far below this.
 */
export const MAX_API_CONNECTIONS = 32;

export interface ApiListenOptions {
  /** Default 127.0.0.1. Anything else is reachable from the network and is warned about. */
  host?: string;
  /** Default 0: an ephemeral port, as tests want. */
  port?: number;
  /** The built renderer (renderer/dist); without it the page says how to build it. */
  rendererDir?: string;
  /** Where notes and warnings go (default console.warn); `serve` may give the station's own. */
  log?: (line: string) => void;
  /**
   * Reuse a session token (at least 32 random bytes, base64url) so pages stay valid across a
   * restart of the server, e.g. in tests. Default: a fresh token per start.
   */
  token?: string;
  /** Default HEARTBEAT_MS; tests shorten it. */
  heartbeatMs?: number;
  /** Default MAX_API_CONNECTIONS. */
  maxConnections?: number;
}

export interface ApiServerOptions extends ApiListenOptions {
  line: LineController;
}

export interface RunningApiServer {
  /** The page to open, token included. */
  url: string;
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * A server that holds its address but serves no line yet: the headless station listens first,
 * so an address it cannot have stops it before any device port is opened. Until `serve`, the
 * API socket is refused (503); the URL is not announced before, so no UI should be waiting.
 */
export interface ListeningApiServer extends RunningApiServer {
  /**
   * Serves `line` from now on; `log` replaces the listen options' log (the station's own);
   * `dataDirFlag` is the station's, for the snapshot (RunningStation).
   */
  serve(line: LineController, log?: (line: string) => void, dataDirFlag?: string): void;
}

/** Starts the server serving `options.line` and resolves once it listens. */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const server = await listenApiServer(options);
  server.serve(options.line);
  return server;
}

/** Listens on the address and resolves once it does; the line comes later (`serve`). */
export async function listenApiServer(options: ApiListenOptions): Promise<ListeningApiServer> {
  const host = options.host ?? '127.0.0.1';
  let log = options.log ?? ((line: string) => console.warn(line));
  const token = options.token ?? createSessionToken();
  if (!/^[A-Za-z0-9_-]{43,}$/.test(token)) {
    throw new Error('startApiServer: a session token must be at least 32 bytes in base64url');
  }
  const headers = securityHeaders();
  // Through `log` as it is at each refusal: `serve` may hand over the station's own.
  const refusedOrigin = throttledRefusalLog((line) => log(line));
  let served: { line: LineController; events: EventSource; dataDirFlag?: string } | undefined;
  // ws closes (1009) anything far over the limit before it is buffered whole; what is only a
  // little over reaches serveStationApi, which answers API_MESSAGE_TOO_LARGE.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_MESSAGE_BYTES });
  let port = 0;

  const server = createServer((req, res) => {
    void serveStatic(req, res, options.rendererDir, headers).catch(() => {
      if (!res.headersSent) res.writeHead(500, headers);
      res.end();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error listener off an upgraded socket: without one, a client that
    // resets the connection while refused (or while the upgrade completes) kills the process.
    socket.on('error', () => socket.destroy());
    const url = upgradeUrl(req.url);
    if (url === undefined) return refuseUpgrade(socket, 400, 'Bad Request');
    if (url.pathname !== '/api') return refuseUpgrade(socket, 404, 'Not Found');
    if (served === undefined) return refuseUpgrade(socket, 503, 'Service Unavailable');
    const origin = req.headers.origin;
    if (!originAllowed(origin, { bindHost: host, port, hostHeader: req.headers.host })) {
      refusedOrigin(origin);
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const authorized = tokenMatches(url.searchParams.get('token'), token);
    // Only sockets with the token count (and are capped): one without it could otherwise keep
    // the station's own window out. Those are closed at once below.
    if (authorized && connected.size >= maxConnections) {
      refusedCap();
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Before the token check: a refused socket still reads until it closes, and a bad frame
      // on a WebSocket with no error listener would throw out of the station.
      ws.on('error', () => ws.terminate());
      if (!authorized) {
        ws.close(CLOSE_CODES.unauthorized, 'A valid session token is required.');
        return;
      }
      connect(ws, isLoopbackPeer(req.socket.remoteAddress));
    });
  });

  const maxConnections = options.maxConnections ?? MAX_API_CONNECTIONS;
  const connected = new Set<WebSocket>();
  // Throttled like the origin refusals: a client retrying in a loop must not flood the log.
  let capLoggedAt = -Infinity;
  let capUnlogged = 0;
  const refusedCap = (): void => {
    const at = Date.now();
    if (at - capLoggedAt < 60_000) return void (capUnlogged += 1);
    const more = capUnlogged > 0 ? ` (and ${capUnlogged} more since the last line)` : '';
    log(`station serve: refused a WebSocket: ${maxConnections} are connected already${more}`);
    capLoggedAt = at;
    capUnlogged = 0;
  };
  const beats = new WeakMap<WebSocket, HeartbeatState>();
  const connect = (ws: WebSocket, local: boolean): void => {
    if (served === undefined) return void ws.terminate();
    connected.add(ws);
    ws.once('close', () => connected.delete(ws));
    watchHeartbeat(ws, beats);
    // A browser elsewhere on the network may run the line, but never send the CA passphrase.
    const handlers = commandHandlers(served.line, { local }, served.dataDirFlag);
    serveStationApi(webSocketPipe(ws), { handlers, events: served.events, log });
  };
  // A browser that vanished without closing (sleeping laptop, pulled cable) is found by ping.
  const heartbeat = setInterval(
    () => heartbeatTick(wss.clients, beats),
    options.heartbeatMs ?? HEARTBEAT_MS,
  );
  heartbeat.unref();

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (err) {
    // A port in use or an address this machine does not have: leave nothing running.
    clearInterval(heartbeat);
    wss.close();
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  for (const line of networkExposureWarning(host)) log(line);

  return {
    url: `http://${pageHost(host)}:${port}/?token=${token}`,
    host,
    port,
    token,
    serve: (line, stationLog, dataDirFlag) => {
      if (served !== undefined) throw new Error('listenApiServer: a line is served already');
      if (stationLog !== undefined) log = stationLog;
      served = {
        line,
        events: lineEvents(line),
        ...(dataDirFlag !== undefined && { dataDirFlag }),
      };
    },
    close: async () => {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** What the heartbeat knows of one WebSocket. */
export interface HeartbeatState {
  /** The payload of the last ping; only a pong that echoes it counts. */
  payload?: Buffer;
  /** Whether the last ping was answered (true until the first ping). */
  answered: boolean;
  /** Whether the socket's send buffer was over MAX_BUFFERED_BYTES at the last tick. */
  backedUp: boolean;
}

/** The part of a `ws` WebSocket the heartbeat uses. */
export interface HeartbeatSocket {
  readonly bufferedAmount: number;
  ping(data: Buffer): void;
  terminate(): void;
  on(event: 'pong', listener: (data: Buffer) => void): unknown;
}

/** Starts counting `ws`'s pongs: only one echoing the latest ping's payload says it is alive. */
export function watchHeartbeat<S extends HeartbeatSocket>(
  ws: S,
  beats: WeakMap<S, HeartbeatState>,
): void {
  const beat: HeartbeatState = { answered: true, backedUp: false };
  beats.set(ws, beat);
  // A client can write pongs without reading a byte: an empty or stale one proves nothing.
  ws.on('pong', (data) => {
    if (beat.payload !== undefined && data.equals(beat.payload)) beat.answered = true;
  });
}

/**
 * One heartbeat: drops every socket that did not echo the last ping (or was never let in),
 * and every socket whose send buffer stayed over the slow-client limit for a whole period (the
 * pipe only checks it when it sends, and a line with nothing to say sends nothing); pings the
 * rest with a fresh random payload.
 */
export function heartbeatTick<S extends HeartbeatSocket>(
  sockets: Iterable<S>,
  beats: WeakMap<S, HeartbeatState>,
  maxBufferedBytes = MAX_BUFFERED_BYTES,
): void {
  for (const ws of sockets) {
    const beat = beats.get(ws);
    if (beat === undefined || !beat.answered) {
      ws.terminate();
      continue;
    }
    const backedUp = ws.bufferedAmount > maxBufferedBytes;
    if (backedUp && beat.backedUp) {
      ws.terminate();
      continue;
    }
    beat.backedUp = backedUp;
    beat.answered = false;
    beat.payload = randomBytes(16);
    ws.ping(beat.payload);
  }
}

async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  rendererDir: string | undefined,
  headers: Record<string, string>,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' });
    return void res.end();
  }
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  if (!rendererDir) return plain(res, headers, 503, 'The station UI is not part of this server.');
  const found = await resolveStaticFile(rendererDir, pathname);
  if (found.kind === 'refused') {
    if (pathname === '/' && found.status === 404) {
      return plain(res, headers, 503, 'The station UI is not built: run `npm run build:renderer`.');
    }
    return plain(res, headers, found.status, found.status === 400 ? 'Bad Request' : 'Not Found');
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': found.contentType,
    'Content-Length': String(found.size),
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(found.path)
    .on('error', () => res.destroy())
    .pipe(res);
}

function plain(
  res: ServerResponse,
  headers: Record<string, string>,
  status: number,
  text: string,
): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

/** The request target of an upgrade as a URL, or undefined when it is not one (`//`, `//[`). */
function upgradeUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://station.invalid');
  } catch {
    return undefined;
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
