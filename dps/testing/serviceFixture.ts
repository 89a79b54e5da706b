import { randomBytes } from 'node:crypto';
import { parseSasToken, sasResource, sasSignatureMatches, serviceSasHost } from '../auth/sas.js';
import { DpsServiceClient, type DpsServiceClientOptions } from '../service/dpsServiceClient.js';
import {
  sendJson,
  startLoopbackHttpsServer,
  type LoopbackHttpsServer,
  type RecordedRequest,
} from './loopbackHttpsServer.js';
import { createLoopbackTls, type LoopbackTls } from './loopbackTls.js';

/**
 * Test support for the service client: a loopback HTTPS server, a random shared access key, and
 * clients pointed at the server with its CA. `close()` closes every client and the server.
 */
export interface ServiceFixture {
  tls: LoopbackTls;
  server: LoopbackHttpsServer;
  policyName: string;
  key: string;
  connectionString: string;
  newClient(options?: Partial<DpsServiceClientOptions>): DpsServiceClient;
  /**
   * Answers the next request with `reply`, runs `call`, and returns its result with the one
   * request it sent (throws if it sent none or several).
   */
  exchange<T>(
    reply: ScriptedReply,
    call: () => Promise<T>,
  ): Promise<{ result: T; request: RecordedRequest }>;
  close(): Promise<void>;
}

/** A canned answer: JSON when `body` is given, else an empty body. */
export interface ScriptedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function startServiceFixture(): Promise<ServiceFixture> {
  const tls = await createLoopbackTls();
  const server = await startLoopbackHttpsServer(tls);
  const key = randomBytes(32).toString('base64');
  const policyName = 'provisioningserviceowner';
  const connectionString = `HostName=${server.hostName};SharedAccessKeyName=${policyName};SharedAccessKey=${key}`;
  const clients: DpsServiceClient[] = [];
  return {
    tls,
    server,
    policyName,
    key,
    connectionString,
    newClient(options = {}) {
      const client = new DpsServiceClient({ connectionString, ca: tls.caPem, ...options });
      clients.push(client);
      return client;
    },
    async exchange(reply, call) {
      const before = server.requests.length;
      server.handle((_req, res) => {
        if (reply.body !== undefined) return sendJson(res, reply.status, reply.body, reply.headers);
        res.writeHead(reply.status, reply.headers);
        res.end();
      });
      const result = await call();
      const request = server.requests[before];
      if (request === undefined || server.requests.length !== before + 1) {
        throw new Error(`expected one request, got ${server.requests.length - before}`);
      }
      return { result, request };
    },
    async close() {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}

/**
 * Checks a service API Authorization header as DPS would: a SAS token for `hostName` (without
 * any port: real DPS refuses `host%3A443` as another resource) under `policyName`, signed with `key`, not expired and at most an hour (plus a minute) ahead.
 * Returns what is wrong, or undefined when the token is good.
 */
export function serviceSasProblem(
  header: string | undefined,
  hostName: string,
  policyName: string,
  key: string,
  nowMs: number = Date.now(),
): string | undefined {
  const fields = header === undefined ? undefined : parseSasToken(header);
  if (fields === undefined) return 'no SAS token';
  if (fields.skn !== policyName) return `policy ${fields.skn}`;
  if (sasResource(fields) !== serviceSasHost(hostName)) return `resource ${fields.sr}`;
  if (!sasSignatureMatches(fields, key)) return 'signature does not verify';
  const now = Math.floor(nowMs / 1000);
  if (fields.se <= now) return 'expired';
  if (fields.se > now + 3660) return 'expiry too far ahead';
  return undefined;
}
