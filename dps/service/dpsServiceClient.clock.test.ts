import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../auth/connectionString.js';
import { DpsError } from '../dpsErrors.js';
import { startDpsEmulator, type DpsEmulator } from '../emulator/dpsEmulator.js';
import { DpsServiceClient } from './dpsServiceClient.js';

/**
 * A station whose clock runs behind signs tokens DPS has already seen expire. Against the DPS
 * emulator (real HTTPS, its own clock and SAS check), such a 401 is told apart from a wrong key.
 */

let emulator: DpsEmulator;
const clients: DpsServiceClient[] = [];
beforeAll(async () => {
  emulator = await startDpsEmulator();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await emulator.close();
});

function clientWith(options: { offsetMs?: number; connectionString?: string } = {}) {
  const client = new DpsServiceClient({
    connectionString: options.connectionString ?? emulator.serviceConnectionString,
    ca: emulator.caCertificatePem,
    nowMs: () => Date.now() + (options.offsetMs ?? 0),
  });
  clients.push(client);
  return client;
}

async function refusal(promise: Promise<unknown>): Promise<DpsError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(DpsError);
  return error as DpsError;
}

const HOUR = 3600_000;

describe('DpsServiceClient: the station clock', () => {
  it('answers the first call of a station hours behind: the refusal tells DPS time, signed again by it', async () => {
    const client = clientWith({ offsetMs: -2 * HOUR - 5 * 60_000 });
    const before = emulator.stats().requests;
    expect(await client.getEnrollment('x')).toBeUndefined(); // answered: no such enrollment
    expect(emulator.stats().requests - before).toBe(2);
  });

  it('says the clock is behind when DPS refuses the token signed by its own time too', async () => {
    // A DPS whose clock leaps 3 h between the station's two tries: the second token, signed by
    // what the first answer said, is expired by then as well (each request reads the clock
    // twice: its Date header, then the token check).
    let reads = 0;
    const leaping = await startDpsEmulator({
      nowMs: () => Date.now() + (reads++ >= 2 ? 3 * HOUR : 0),
    });
    try {
      const client = new DpsServiceClient({
        connectionString: leaping.serviceConnectionString,
        ca: leaping.caCertificatePem,
        nowMs: () => Date.now() - 2 * HOUR - 5 * 60_000,
      });
      clients.push(client);
      const error = await refusal(client.getEnrollment('x'));
      expect(error.code).toBe('DPS_CLOCK_WRONG');
      expect(error.status).toBe(401);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/clock is behind/);
      expect(error.detail).toMatch(/the station's clock \(\S+\) is 5 h 5 min behind DPS's \(\S+\)/);
    } finally {
      await leaping.close();
    }
  });

  it('keeps a wrong key a credentials problem, whatever the clock', async () => {
    const parsed = parseConnectionString(emulator.serviceConnectionString);
    const wrongKey = `HostName=${parsed.hostName};SharedAccessKeyName=${parsed.sharedAccessKeyName};SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`;
    expect(
      (await refusal(clientWith({ connectionString: wrongKey }).getEnrollment('x'))).code,
    ).toBe('DPS_UNAUTHORIZED');
    // Ahead, or behind by less than a token's life: its tokens are still current for DPS, so a
    // refusal is the key's fault.
    for (const offsetMs of [3 * HOUR, -20 * 60_000]) {
      const client = clientWith({ connectionString: wrongKey, offsetMs });
      expect((await refusal(client.getEnrollment('x'))).code).toBe('DPS_UNAUTHORIZED');
    }
  });

  it('works with a clock behind by less than a token lives', async () => {
    await expect(
      clientWith({ offsetMs: -20 * 60_000 }).getEnrollment('x'),
    ).resolves.toBeUndefined();
  });

  it("reads DPS's clock off every answer, so the line can say how far off its own is", async () => {
    let offsetMs = 10 * 60_000;
    const ahead = new DpsServiceClient({
      connectionString: emulator.serviceConnectionString,
      ca: emulator.caCertificatePem,
      nowMs: () => Date.now() + offsetMs,
    });
    clients.push(ahead);
    expect(ahead.clockOffsetMs()).toBeUndefined();
    await ahead.getEnrollment('x');
    // The Date header has whole seconds: within 2 s of the 10 min the clock was set ahead.
    expect(Math.abs(ahead.clockOffsetMs()! + 10 * 60_000)).toBeLessThan(2_000);
    // The supervisor sets the clock right: the difference goes at once, without a DPS call.
    offsetMs = 0;
    expect(Math.abs(ahead.clockOffsetMs()!)).toBeLessThan(2_000);
    const right = clientWith();
    await refusal(right.getEnrollmentAttestation('absent'));
    expect(Math.abs(right.clockOffsetMs()!)).toBeLessThan(2_000);
  });
});
