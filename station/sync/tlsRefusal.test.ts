import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import type { DpsTlsRefusalKind } from '../../dps/dpsErrors.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { parseDpsEndpoint } from '../../dps/http/dpsEndpoint.js';
import { httpsExchange } from '../../dps/http/httpsExchange.js';
import { NODE_TLS_REFUSAL_CODES, tlsRefusalOfNodeCode } from '../../dps/http/tlsRefusalCodes.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { judgeFailure, needsAPerson } from './failurePolicy.js';
import { syncErrorText } from './syncErrors.js';
import { untrustedDpsText } from './tlsRefusal.js';

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

/**
 * What the HTTPS client throws when node refuses the emulator's certificate with `code`. The
 * rarer verdicts of OpenSSL cannot be made on demand: the identity check reports the code, and
 * node ends the handshake with it just as with OpenSSL's own.
 */
async function refusedWith(code: string): Promise<unknown> {
  const refuse = () => Object.assign(new Error(`refused as ${code}`), { code });
  const agent = new Agent({
    ca: emulator.caCertificatePem,
    checkServerIdentity: refuse,
    maxCachedSessions: 0,
  });
  try {
    await httpsExchange({
      agent,
      endpoint: parseDpsEndpoint(emulator.hostName),
      method: 'GET',
      path: '/enrollments/reg-1',
      headers: {},
      timeoutMs: 10_000,
    });
    throw new Error('the certificate was accepted');
  } catch (err) {
    return err;
  } finally {
    agent.destroy();
  }
}

const backoff = { baseMs: 1_000, capMs: 300_000 };
const judged = (err: unknown) => judgeFailure(err, 1, backoff, () => 0.5);

describe('an untrusted DPS certificate, over HTTPS against the emulator', () => {
  it('without the emulator CA: the issuer is not trusted, and the text names LINE_STATION_DPS_CA', async () => {
    const err = await refusal(emulator.hostName);
    expect(err).toMatchObject({ code: 'DPS_TLS_UNTRUSTED', tls: { kind: 'untrusted-issuer' } });
    const { rowCode, error } = judged(err);
    expect(rowCode).toBe('SYNC_DPS_UNTRUSTED');
    // DpsError's own text blames the host name, which sent supervisors to the wrong cause.
    expect(error.message).not.toMatch(/host name/);
    expect(error.message).toMatch(/does not trust the issuer/);
    expect(error.message).toContain('LINE_STATION_DPS_CA must name its CA certificate file');
    expect(error.detail).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('with the CA but a host name its certificate does not name: the host name, not the CA', async () => {
    // 127.1 reaches the emulator on 127.0.0.1, but its certificate names 127.0.0.1 and localhost.
    const port = emulator.hostName.split(':')[1]!;
    const err = await refusal(`127.1:${port}`, emulator.caCertificatePem);
    expect(err).toMatchObject({ code: 'DPS_TLS_UNTRUSTED', tls: { kind: 'hostname' } });
    const { error } = judged(err);
    expect(error.message).toMatch(/not made out for the host name/);
    expect(error.message).toMatch(/LINE_STATION_DPS_CA does not change this/);
  });
});

describe('every refusal the DPS client knows, through the failure policy', () => {
  it.each(NODE_TLS_REFUSAL_CODES)('%s gets the words of its own kind', async (code) => {
    const verdict = judged(await refusedWith(code));
    expect(verdict.rowCode).toBe('SYNC_DPS_UNTRUSTED');
    expect(needsAPerson(verdict)).toBe(true);
    expect(verdict.error.message).toBe(untrustedDpsText(tlsRefusalOfNodeCode(code)?.kind));
    expect(verdict.error.message).not.toBe(syncErrorText.SYNC_DPS_UNTRUSTED);
    expect(verdict.error.detail).toContain(`${code}: refused as ${code}`);
  });

  // Both fell through to the text for "cannot tell" while the station kept its own list of codes.
  it('a CA marked as rejected says so, and where to look', async () => {
    const { error } = judged(await refusedWith('CERT_REJECTED'));
    expect(error.message).toMatch(/^A certificate authority in the DPS server's certificate chain/);
    expect(error.message).toContain('marked on this station as not to be trusted for servers');
    expect(error.message).toContain("this machine's CA certificates");
  });

  it('a signature that does not match says what alters one, and where to look', async () => {
    const { error } = judged(await refusedWith('CERT_SIGNATURE_FAILURE'));
    expect(error.message).toMatch(/^A signature in the DPS server's certificate chain/);
    expect(error.message).toContain('a proxy');
    expect(error.message).toContain("LINE_STATION_DPS_CA names that DPS's current CA");
  });
});

describe('untrustedDpsText', () => {
  const kinds: DpsTlsRefusalKind[] = [
    'untrusted-issuer',
    'hostname',
    'expired',
    'not-yet-valid',
    'rejected',
    'bad-signature',
  ];

  it('words each kind apart from the others and from the text that cannot tell', () => {
    const texts = new Set([
      ...kinds.map((kind) => untrustedDpsText(kind)),
      untrustedDpsText(undefined),
    ]);
    expect(texts.size).toBe(kinds.length + 1);
    expect(untrustedDpsText(undefined)).toBe(syncErrorText.SYNC_DPS_UNTRUSTED);
  });

  it('sends a certificate out of its dates to the clock, not to a CA', () => {
    expect(untrustedDpsText('expired')).toMatch(/date and time[^]*LINE_STATION_DPS_CA does not/);
    expect(untrustedDpsText('not-yet-valid')).toMatch(/clock is most likely behind/);
  });
});
