import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { judgeFailure } from './failurePolicy.js';
import { tlsRefusalIn, tlsRefusalOf, untrustedDpsText } from './tlsRefusal.js';

let emulator: DpsEmulator;
beforeAll(async () => {
  emulator = await startDpsEmulator({});
});
afterAll(() => emulator.close());

/** What the HTTPS client throws when it reads DPS at `hostName`, trusting `ca` if given. */
async function refusal(hostName: string, ca?: string): Promise<unknown> {
  const connectionString = parseConnectionString(
    emulator.serviceConnectionString.replace(emulator.hostName, hostName),
  );
  const client = new DpsServiceClient({ connectionString, ...(ca !== undefined && { ca }) });
  try {
    await client.getEnrollment('reg-1');
    throw new Error('the emulator was trusted');
  } catch (err) {
    return err;
  } finally {
    client.close();
  }
}

const backoff = { baseMs: 1_000, capMs: 300_000 };

describe('an untrusted DPS certificate, over HTTPS against the emulator', () => {
  it('without the emulator CA: the issuer is not trusted, and the text names LINE_STATION_DPS_CA', async () => {
    const err = await refusal(emulator.hostName);
    expect(err).toMatchObject({ code: 'DPS_TLS_UNTRUSTED' });
    expect(tlsRefusalOf(err)).toBe('issuer');
    const { rowCode, error } = judgeFailure(err, 1, backoff, () => 0.5);
    expect(rowCode).toBe('SYNC_DPS_UNTRUSTED');
    // DpsError's own text blames the host name, which sent supervisors to the wrong cause.
    expect(error.message).not.toMatch(/host name/);
    expect(error.message).toMatch(/does not trust the issuer/);
    expect(error.message).toContain('LINE_STATION_DPS_CA');
    expect(error.detail).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('with the CA but a host name its certificate does not name: the host name, not the CA', async () => {
    // 127.1 reaches the emulator on 127.0.0.1, but its certificate names 127.0.0.1 and localhost.
    const port = emulator.hostName.split(':')[1]!;
    const err = await refusal(`127.1:${port}`, emulator.caCertificatePem);
    expect(err).toMatchObject({ code: 'DPS_TLS_UNTRUSTED' });
    expect(tlsRefusalOf(err)).toBe('host-name');
    const { error } = judgeFailure(err, 1, backoff, () => 0.5);
    expect(error.message).toMatch(/not made out for the host name/);
    expect(error.message).toMatch(/LINE_STATION_DPS_CA does not change this/);
  });
});

describe('tlsRefusalIn', () => {
  it("reads node's code from a row's recorded text", () => {
    const row = (code: string) => `DPS_TLS_UNTRUSTED, POST /enrollments: ${code}: some text`;
    expect(tlsRefusalIn(row('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('issuer');
    expect(tlsRefusalIn(row('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe('issuer');
    expect(tlsRefusalIn(row('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('host-name');
    expect(tlsRefusalIn(row('CERT_HAS_EXPIRED'))).toBe('dates');
    expect(tlsRefusalIn(row('CERT_REJECTED'))).toBe('other');
    expect(tlsRefusalIn('')).toBe('other');
    expect(untrustedDpsText('other')).toContain('LINE_STATION_DPS_CA');
  });
});
