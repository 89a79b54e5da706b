import { afterEach, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import {
  startDpsEmulator,
  type DpsEmulator,
  type DpsEmulatorOptions,
} from '../emulator/dpsEmulator.js';
import { DpsServiceClient } from './dpsServiceClient.js';

/**
 * The service token against the DPS emulator (real HTTPS, its own SAS check). The emulator's clock
 * and the station's are both injected, so hours of token life pass in a moment while the two
 * clocks keep their difference.
 */

const MIN = 60_000;
const open: { emulator: DpsEmulator; client: DpsServiceClient }[] = [];
afterEach(async () => {
  for (const { emulator, client } of open.splice(0)) {
    client.close();
    await emulator.close();
  }
});

async function station(options: { behindMs: number; emulator?: DpsEmulatorOptions }) {
  const clock = { dpsMs: Date.now() };
  const emulator = await startDpsEmulator({ ...options.emulator, nowMs: () => clock.dpsMs });
  const client = new DpsServiceClient({
    connectionString: emulator.serviceConnectionString,
    ca: emulator.caCertificatePem,
    nowMs: () => clock.dpsMs - options.behindMs,
  });
  open.push({ emulator, client });
  return { clock, client };
}

/** Calls once a minute for `minutes`, moving both clocks; the minutes DPS refused, with why. */
async function refusedMinutes(
  { clock, client }: Awaited<ReturnType<typeof station>>,
  minutes: number,
): Promise<string[]> {
  const start = clock.dpsMs;
  const refused: string[] = [];
  for (let minute = 0; minute <= minutes; minute += 1) {
    clock.dpsMs = start + minute * MIN;
    await client.getEnrollment('x').catch((err: unknown) => {
      refused.push(`${minute}: ${err instanceof DpsError ? err.code : String(err)}`);
    });
  }
  return refused;
}

describe('DpsServiceClient: the service token over time', () => {
  it('keeps working through every minute of its tokens with a clock 20 min behind', async () => {
    // Two and a bit token lives: every point of a token's life, renewals included.
    expect(await refusedMinutes(await station({ behindMs: 20 * MIN }), 130)).toEqual([]);
  });

  it('keeps working with a clock just under a token life behind, and ahead', async () => {
    expect(await refusedMinutes(await station({ behindMs: 58 * MIN }), 70)).toEqual([]);
    expect(await refusedMinutes(await station({ behindMs: -3 * 60 * MIN }), 70)).toEqual([]);
  });

  it('signs by DPS clock once an answer told it, even when the station is hours behind', async () => {
    const behind = await station({ behindMs: 2 * 60 * MIN });
    // The first token, signed by the station's clock alone, is refused; its answer tells DPS's
    // time, and the call is signed again by it: no refusal reaches the caller, then or later.
    expect(await refusedMinutes(behind, 70)).toEqual([]);
  });

  it('names the host without the port in sr, as real DPS requires', async () => {
    // The connection string's HostName is 127.0.0.1:<port>; real DPS refuses a port in sr.
    const { client } = await station({
      behindMs: 0,
      emulator: { refusePortInServiceToken: true },
    });
    await expect(client.getEnrollment('x')).resolves.toBeUndefined();
  });
});
