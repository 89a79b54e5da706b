import { Agent, type AgentOptions } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import {
  sendJson,
  startLoopbackHttpsServer,
  type LoopbackHttpsServer,
} from '../testing/loopbackHttpsServer.js';
import { createLoopbackTls, type LoopbackTls } from '../testing/loopbackTls.js';
import type { DpsEndpoint } from './dpsEndpoint.js';
import { httpsExchange } from './httpsExchange.js';
import { NODE_TLS_REFUSAL_CODES, tlsRefusalOfNodeCode } from './tlsRefusalCodes.js';

/**
 * The HTTPS client meets node's TLS error and classifies it once, on the DpsError it throws: real
 * handshakes against a loopback server. OpenSSL's rarer verdicts (a CA marked as rejected, a bad
 * signature) cannot be made on demand, so the connection's identity check reports them: node
 * destroys the socket with that error exactly as with OpenSSL's own.
 */

let tls: LoopbackTls;
let server: LoopbackHttpsServer;
beforeAll(async () => {
  tls = await createLoopbackTls();
  server = await startLoopbackHttpsServer(tls);
  server.handle((_req, res) => sendJson(res, 200, { registrationId: 'x' }));
});
afterAll(() => server.close());

/** What one GET ends in, through a fresh agent (no TLS session reused, so every check runs). */
async function get(agentOptions: AgentOptions, servername?: string): Promise<unknown> {
  const agent = new Agent({ maxCachedSessions: 0, ...agentOptions });
  const endpoint: DpsEndpoint = {
    host: '127.0.0.1',
    port: server.port,
    ...(servername !== undefined && { servername }),
  };
  try {
    return await httpsExchange({
      agent,
      endpoint,
      method: 'GET',
      path: '/enrollments/x?api-version=2021-10-01',
      headers: {},
      timeoutMs: 10_000,
    });
  } catch (err) {
    return err;
  } finally {
    agent.destroy();
  }
}

/** An identity check that fails with node's `code`, as node's TLS errors carry it. */
function failingWith(code: string): AgentOptions['checkServerIdentity'] {
  return () => Object.assign(new Error(`refused as ${code}`), { code });
}

describe('httpsExchange, a server certificate refused', () => {
  it('answers when the certificate is trusted: the harness itself lets requests through', async () => {
    expect(await get({ ca: tls.caPem })).toMatchObject({ status: 200 });
  });

  it('a chain to no CA the client trusts is untrusted-issuer, and nothing is sent', async () => {
    const before = server.requests.length;
    const err = await get({});
    expect(err).toBeInstanceOf(DpsError);
    expect(err).toMatchObject({
      code: 'DPS_TLS_UNTRUSTED',
      retryable: false,
      // The loopback server sends its CA along: a self-signed root the client does not trust.
      tls: { kind: 'untrusted-issuer', nodeCode: 'SELF_SIGNED_CERT_IN_CHAIN' },
    });
    expect((err as DpsError).detail).toMatch(/^GET \/enrollments\/x: SELF_SIGNED_CERT_IN_CHAIN: /);
    expect(server.requests).toHaveLength(before);
  });

  it('a certificate made out for another host name is hostname', async () => {
    const err = await get({ ca: tls.caPem }, 'dps.example');
    expect(err).toMatchObject({
      code: 'DPS_TLS_UNTRUSTED',
      tls: { kind: 'hostname', nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
  });

  it.each(NODE_TLS_REFUSAL_CODES)(
    '%s becomes DPS_TLS_UNTRUSTED carrying its kind',
    async (code) => {
      const err = await get({ ca: tls.caPem, checkServerIdentity: failingWith(code) });
      expect(err).toBeInstanceOf(DpsError);
      const dpsError = err as DpsError;
      expect(dpsError.code).toBe('DPS_TLS_UNTRUSTED');
      expect(dpsError.tls).toEqual(tlsRefusalOfNodeCode(code));
      expect(dpsError.detail).toBe(`GET /enrollments/x: ${code}: refused as ${code}`);
      expect((dpsError.cause as { code?: string }).code).toBe(code);
    },
  );

  it('any other failure of the connection stays DPS_UNREACHABLE, with no refusal', async () => {
    const err = await get({ ca: tls.caPem, checkServerIdentity: failingWith('ECONNRESET') });
    expect(err).toMatchObject({ code: 'DPS_UNREACHABLE', retryable: true, tls: undefined });
  });
});
