import { Agent } from 'node:https';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import { parseDpsEndpoint } from './dpsEndpoint.js';
import { httpsExchange } from './httpsExchange.js';

/**
 * A host name that does not resolve is told apart from a network or a DPS that is down: real
 * lookups and real connections. `.invalid` never resolves (RFC 6761 §6.4); a resolver that cannot
 * be asked at all answers EAI_AGAIN for it instead of ENOTFOUND, which is told the same way.
 */

const agent = new Agent({ maxCachedSessions: 0 });
afterAll(() => agent.destroy());

async function get(hostAndPort: string): Promise<unknown> {
  try {
    await httpsExchange({
      agent,
      endpoint: parseDpsEndpoint(hostAndPort),
      method: 'GET',
      path: '/enrollments/ls-demo-1-sim000006?api-version=2021-10-01',
      headers: {},
      timeoutMs: 10_000,
    });
    throw new Error('the request was answered');
  } catch (err) {
    return err;
  }
}

/** A loopback port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('httpsExchange, when DPS cannot be reached', () => {
  it('says the host name does not resolve, retryable, with what to check', async () => {
    const err = await get('line7-dsp.invalid');
    expect(err).toBeInstanceOf(DpsError);
    const dps = err as DpsError;
    expect(dps.code).toBe('DPS_HOST_NOT_FOUND');
    expect(dps.retryable).toBe(true);
    expect(dps.message).toMatch(/host name in the DPS connection string/);
    expect(dps.message).toMatch(/DNS/);
    expect(dps.message).not.toMatch(/network down/);
    expect(dps.detail).toMatch(/^GET \/enrollments\/ls-demo-1-sim000006: (ENOTFOUND|EAI_AGAIN)/);
  });

  it('keeps a refused connection as DPS unreachable', async () => {
    const err = await get(`127.0.0.1:${await closedPort()}`);
    expect(err).toMatchObject({ code: 'DPS_UNREACHABLE', retryable: true });
    expect((err as DpsError).detail).toMatch(/ECONNREFUSED/);
  });
});
