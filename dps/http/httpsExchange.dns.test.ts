import { Agent } from 'node:https';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import { parseDpsEndpoint } from './dpsEndpoint.js';
import { httpsExchange } from './httpsExchange.js';

/**
 * A host name that does not resolve is told apart from a network or a DPS that is down: real
 * connections, and the resolver's two answers made certain by the agent's lookup (a machine's
 * own DNS may answer a name that does not exist either way).
 */

type Lookup = NonNullable<ConstructorParameters<typeof Agent>[0]>['lookup'];
/** A resolver that fails every name with `code`, as getaddrinfo reports it. */
const failingLookup =
  (code: string): Lookup =>
  (hostname, _options, callback) =>
    process.nextTick(() =>
      (callback as (err: Error) => void)(
        Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname }),
      ),
    );

const agent = new Agent({ maxCachedSessions: 0 });
const noSuchName = new Agent({ maxCachedSessions: 0, lookup: failingLookup('ENOTFOUND') });
const noDnsAnswer = new Agent({ maxCachedSessions: 0, lookup: failingLookup('EAI_AGAIN') });
afterAll(() => [agent, noSuchName, noDnsAnswer].forEach((a) => a.destroy()));

async function get(hostAndPort: string, through = agent): Promise<unknown> {
  try {
    await httpsExchange({
      agent: through,
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
    const err = await get('line7-dsp.invalid', noSuchName);
    expect(err).toBeInstanceOf(DpsError);
    const dps = err as DpsError;
    expect(dps.code).toBe('DPS_HOST_NOT_FOUND');
    expect(dps.retryable).toBe(true);
    expect(dps.message).toMatch(/host name in the DPS connection string/);
    expect(dps.message).toMatch(/DNS/);
    expect(dps.message).not.toMatch(/network down/);
    expect(dps.detail).toMatch(/^GET \/enrollments\/ls-demo-1-sim000006: ENOTFOUND/);
  });

  it('keeps a DNS server that does not answer (no network) as DPS unreachable, not a wrong name', async () => {
    const err = await get('global.azure-devices-provisioning.net', noDnsAnswer);
    expect(err).toMatchObject({ code: 'DPS_UNREACHABLE', retryable: true });
    expect((err as DpsError).detail).toMatch(/EAI_AGAIN/);
  });

  // The emulator not running, or a wrong port, read "network down": supervisors checked cables.
  it('says a refused connection is refused, retryable, with the port, firewall and emulator to check', async () => {
    const err = await get(`127.0.0.1:${await closedPort()}`);
    expect(err).toMatchObject({ code: 'DPS_CONNECTION_REFUSED', retryable: true });
    const dps = err as DpsError;
    expect(dps.detail).toMatch(/^GET \/enrollments\/ls-demo-1-sim000006: ECONNREFUSED/);
    expect(dps.message).toMatch(/host name and port in the DPS connection string/);
    expect(dps.message).toMatch(/proxy or firewall/);
    expect(dps.message).toMatch(/DPS emulator is running/);
    expect(dps.message).not.toMatch(/network down|cannot be reached/);
  });
});
