import { once } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { LoopbackTls } from './loopbackTls.js';

/**
 * Test support: a real HTTPS server on 127.0.0.1 (ephemeral port) that records every request
 * and answers through a handler the test sets. It stands in for DPS where a test needs to see
 * the exact wire or to script a failure; the DPS emulator is the full stand-in.
 */

/** A request as the server received it, body complete. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, exactly as sent (percent-escapes kept). */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names, as Node gives them. */
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** TLS SNI the client sent, or false. */
  servername: string | false;
  /** The client certificate's CN, when one was presented. */
  peerCommonName: string | undefined;
  /** True when the client certificate chains to the server's `ca`. */
  peerAuthorized: boolean;
  /** Client port: equal for requests that shared a keep-alive connection. */
  remotePort: number;
}

/** Answers one request; `res` is the real response. Thrown errors become a 500. */
export type LoopbackHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface LoopbackHttpsServer {
  port: number;
  /** `127.0.0.1:<port>`: a DPS HostName or global endpoint with a port. */
  hostName: string;
  requests: RecordedRequest[];
  /** Replaces the handler for the requests that follow. */
  handle(handler: LoopbackHandler): void;
  /** TLS connections currently open. */
  connections(): TLSSocket[];
  /** Resolves with the next request received (or already received after `afterCount`). */
  nextRequest(afterCount?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface LoopbackServerOptions {
  /** Ask for a client certificate (trusting `tls.caPem`) without refusing clients that have none. */
  requestClientCertificate?: boolean;
}

/** Sends `body` as JSON with `status` (and extra headers). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startLoopbackHttpsServer(
  tls: LoopbackTls,
  options: LoopbackServerOptions = {},
): Promise<LoopbackHttpsServer> {
  const requests: RecordedRequest[] = [];
  /** Pending nextRequest calls; each returns true once it has resolved. */
  let waiters: Array<() => boolean> = [];
  const sockets = new Set<TLSSocket>();
  let handler: LoopbackHandler = (_req, res) => sendJson(res, 404, { message: 'no handler' });

  const server = createServer({
    cert: tls.server.certPem,
    key: tls.server.keyPem,
    ca: tls.caPem,
    requestCert: options.requestClientCertificate ?? false,
    rejectUnauthorized: false,
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const url = new URL(req.url ?? '/', 'https://loopback');
      const peer: Partial<PeerCertificate> = socket.getPeerCertificate();
      const commonName = peer.subject?.CN;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
        servername: socket.servername ?? false,
        peerCommonName: Array.isArray(commonName) ? commonName[0] : commonName,
        peerAuthorized: socket.authorized,
        remotePort: socket.remotePort ?? 0,
      };
      requests.push(recorded);
      waiters = waiters.filter((settle) => !settle());
      Promise.resolve()
        .then(() => handler(recorded, res))
        .catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { message: String(err) });
        });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    hostName: `127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    connections: () => [...sockets],
    nextRequest(afterCount = requests.length) {
      return new Promise<RecordedRequest>((resolve) => {
        const settle = (): boolean => {
          const request = requests[afterCount];
          if (request !== undefined) resolve(request);
          return request !== undefined;
        };
        if (!settle()) waiters.push(settle);
      });
    },
    async close() {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
