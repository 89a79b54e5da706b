import { request, type Agent } from 'node:https';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { DpsError } from '../dpsErrors.js';
import type { DpsEndpoint } from './dpsEndpoint.js';
import { tlsRefusalOfNodeCode } from './tlsRefusalCodes.js';

/** One HTTPS request to DPS. Both DPS clients send everything through `httpsExchange`. */
export interface HttpsExchangeRequest {
  agent: Agent;
  endpoint: DpsEndpoint;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The whole exchange, connect to last body byte; the request is destroyed when it runs out. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** DPS's answer, whatever its status; the caller decides what a status means. */
export interface HttpsExchangeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** DPS messages are at most 96 KB; a query page of many records stays far below this. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Sends one request and collects the response. Rejects with DpsError DPS_TIMEOUT when the time
 * runs out, DPS_TLS_UNTRUSTED for a server certificate refused (its `tls` says which check
 * failed), DPS_HOST_NOT_FOUND when DNS gives no address for the host, DPS_CONNECTION_REFUSED when
 * the host refuses the TCP connection, DPS_UNREACHABLE for any other transport failure (reset,
 * unreachable network, a TLS handshake broken off), and with the signal's
 * reason when aborted. Never retries: retry policy
 * belongs to the caller.
 */
export function httpsExchange(exchange: HttpsExchangeRequest): Promise<HttpsExchangeResponse> {
  const { method, endpoint, signal } = exchange;
  // The query carries only the api-version; leaving it out keeps details short.
  const where = `${method} ${exchange.path.split('?')[0] ?? ''}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    // The timer and abort callbacks run only after this executor returns, when `fail` exists.
    const timer = setTimeout(() => {
      fail(
        new DpsError('DPS_TIMEOUT', {
          detail: `${where}: no answer within ${exchange.timeoutMs} ms`,
        }),
      );
    }, exchange.timeoutMs);
    const finish = (error: unknown, response?: HttpsExchangeResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (response !== undefined) resolve(response);
      else reject(error);
    };
    let req: ClientRequest;
    try {
      req = request({
        agent: exchange.agent,
        host: endpoint.host,
        port: endpoint.port,
        ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }),
        method,
        path: exchange.path,
        headers: exchange.headers,
      });
    } catch (err) {
      // A header Node refuses (e.g. a control character in If-Match): the caller's mistake.
      clearTimeout(timer);
      reject(err as Error);
      return;
    }
    const fail = (error: unknown): void => {
      finish(error);
      req.destroy();
    };
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err) => finish(transportError(where, err)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          fail(
            new DpsError('DPS_RESPONSE_INVALID', {
              status: res.statusCode,
              detail: `${where}: response larger than ${MAX_RESPONSE_BYTES} bytes`,
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish(transportError(where, err)));
      // A connection lost mid-body: 'close' without a complete message.
      res.on('close', () => {
        if (!res.complete) finish(transportError(where, new Error('response cut off')));
      });
      res.on('end', () => {
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
        });
      });
    });
    req.end(exchange.body);
  });
}

/**
 * Any failure below HTTP: refused, reset, EPIPE, "socket hang up", DNS, TLS. Node's messages
 * name hosts and certificates, never headers, so they are safe for the detail.
 */
function transportError(where: string, err: Error): DpsError {
  const code = (err as NodeJS.ErrnoException).code;
  // Waiting cures a network, not a certificate: that failure needs a person, and calling it
  // "unreachable" sent supervisors to check cables. Which check failed is told here, where
  // node's error is at hand, so that nothing above has to know node's codes.
  const tls = tlsRefusalOfNodeCode(code);
  const detail = `${where}: ${code === undefined ? '' : `${code}: `}${err.message}`;
  if (tls !== undefined) return new DpsError('DPS_TLS_UNTRUSTED', { detail, tls, cause: err });
  // A host name that does not resolve is most often a typo in the connection string: "network
  // down" sent supervisors to the cables.
  if (code !== undefined && DNS_FAILURES.has(code)) {
    return new DpsError('DPS_HOST_NOT_FOUND', { detail, cause: err });
  }
  // The host is there and says no: a wrong port, a firewall, or the DPS emulator not running.
  // "Network down" sent supervisors to the cables of a network that works.
  if (code === 'ECONNREFUSED')
    return new DpsError('DPS_CONNECTION_REFUSED', { detail, cause: err });
  return new DpsError('DPS_UNREACHABLE', { detail, cause: err });
}

/**
 * getaddrinfo's answers that the name does not exist. Not EAI_AGAIN: that is a DNS server that
 * did not answer, what a station with no network gets for every name, the normal offline case.
 */
const DNS_FAILURES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_NONAME']);
