/**
 * `station bundle sync` as the supervisor reads it, against the DPS emulator over HTTPS: what the
 * receipt holds when the sync stopped early, and in which order to go on.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { afterSyncLines, bundleSyncCommand, waitingLine } from '../cli/bundleSyncCommand.js';
import { zonedLocalTime } from '../cli/timeFlags.js';
import { DPS_CA_ENV, dpsClientFor } from '../production/dpsConnection.js';
import { sealPayload } from './bundleSeal.js';
import { InMemoryDps } from '../sync/testing/inMemoryDps.js';
import { syncBundle, type BundleSyncSummary } from './bundleSync.js';
import { bundle, DPS_HOST, T, wrapper, x509Row } from './testing/bundleSyncTestKit.js';

let dir: string;
let emulator: DpsEmulator;
let output: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-sync-command-'));
  emulator = await startDpsEmulator({});
  writeFileSync(join(dir, 'emulator-ca.pem'), emulator.caCertificatePem);
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', 'bundle test passphrase');
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
  vi.stubEnv(DPS_CA_ENV, '');
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A sealed bundle of `serials` on the "stick", with certificates the emulator takes. */
async function stickBundle(serials: string[]): Promise<string> {
  const payload = bundle(serials.map((s, i) => x509Row(i + 1, s, emulator.caCertificatePem)));
  const header = {
    kind: 'bundle' as const,
    bundleId: payload.bundleId,
    writtenAt: payload.createdAt,
  };
  const file = join(dir, 'line7.bundle');
  writeFileSync(file, await sealPayload(header, payload, wrapper));
  return file;
}

const syncIt = (file: string) =>
  bundleSyncCommand(join(dir, 'office'), file, { by: 'sam' }, dpsClientFor);

describe('station bundle sync, when the sync stops early', () => {
  it('says a receipt with no answer need not be taken back, and what to do first', async () => {
    const file = await stickBundle(['SN1', 'SN2']);
    expect(await syncIt(file)).toBe(1);
    const receipt = join(dir, 'line7.receipt');
    expect(existsSync(receipt)).toBe(true);
    const text = output.join('\n');
    expect(text).toMatch(/^DPS answered: 0 synced, 0 failed, 0 conflict; 2 without an answer\.$/m);
    expect(text).toMatch(
      /^Stopped early: The station does not trust the issuer[^\n]*LINE_STATION_DPS_CA[^\n]*\[SYNC_DPS_UNTRUSTED\]$/m,
    );
    // The contradiction the supervisor met: "take it back" beside "run this again".
    expect(text).not.toMatch(/Take it back to the station/);
    expect(output).toContain(
      `Receipt: ${receipt}. It carries no final answer yet (all 2 enrollment(s) still pending): take back the one the next run writes instead.`,
    );
    expect(output.slice(output.indexOf('Next:'))).toEqual([
      'Next:',
      '  1. Fix what the DPS certificate check refused, as said above.',
      // Run again on this machine, on its own (not the default) data folder.
      `  2. Run \`station bundle sync ${file} --data-dir ${join(dir, 'office')}\` again: it goes on where it stopped and writes the receipt again, with every answer so far.`,
      '  3. Take that receipt back to the station and run `station bundle receive`.',
    ]);

    // Fixed: the same command goes on, and the receipt is the one to carry.
    vi.stubEnv(DPS_CA_ENV, join(dir, 'emulator-ca.pem'));
    output.length = 0;
    expect(await syncIt(file)).toBe(0);
    expect(emulator.stats()).toMatchObject({ enrollments: 2 });
    // The rows waited out the station's own backoff, not DPS's: sent at once, not waited for.
    expect(output.join('\n')).not.toMatch(/DPS asked to retry/);
    expect(output.slice(-2)).toEqual([
      'DPS answered: 2 synced, 0 failed, 0 conflict; 0 without an answer.',
      `Receipt: ${receipt}. Take it back to the station and run \`station bundle receive\`.`,
    ]);
  });
});

describe('afterSyncLines', () => {
  const files = { bundle: '/media/stick/line 7.bundle', receipt: '/media/stick/line 7.receipt' };
  const summary = (s: Partial<BundleSyncSummary>): BundleSyncSummary => ({
    synced: 0,
    failed: 0,
    conflict: 0,
    pending: 0,
    ...s,
  });

  it('says what a partial receipt holds, and that it settles only what was answered', () => {
    const lines = afterSyncLines(
      summary({
        synced: 3,
        conflict: 1,
        pending: 2,
        lastError: { code: 'SYNC_OFFLINE', message: 'DPS cannot be reached.' },
      }),
      { ...files, source: 'LINE_STATION_DPS_CONNECTION' },
    );
    expect(lines).toEqual([
      'Stopped early: DPS cannot be reached. [SYNC_OFFLINE]',
      'Receipt: /media/stick/line 7.receipt. It holds 4 final answer(s) (3 synced, 0 failed, 1 conflict) and 2 enrollment(s) still pending.',
      'Next:',
      '  1. Wait until this machine can reach DPS.',
      "  2. Run `station bundle sync '/media/stick/line 7.bundle'` again: it goes on where it stopped and writes the receipt again, with every answer so far.",
      '  3. Take that receipt back to the station and run `station bundle receive`.',
      'This receipt may be taken back now only for the 4 enrollment(s) already answered; the 2 pending stay pending on the line until a later receipt answers them.',
    ]);
  });

  it('names the wait DPS asked for as the first step', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    const at = new Date(now + 20 * 60_000);
    const lines = afterSyncLines(
      summary({ synced: 1, pending: 1, dpsRetryAt: at.toISOString() }),
      { ...files, source: 'x' },
      now,
    );
    expect(lines).toContain(
      `  1. Wait until after ${zonedLocalTime(at.toISOString())}: DPS asked to retry then.`,
    );
  });

  it('says whose wait the sync sits out, with its date', () => {
    const until = new Date('2026-03-01T23:59:30Z');
    expect(waitingLine({ until, code: 'SYNC_DPS_RETRY', byDps: true })).toBe(
      `  DPS asked to retry some enrollments: waiting until ${zonedLocalTime(until.toISOString())} (Ctrl-C stops and writes the receipt)`,
    );
    expect(waitingLine({ until, code: 'SYNC_STORE_FAILED', byDps: false })).toBe(
      `  Some enrollments wait out the station's retry delay after SYNC_STORE_FAILED: waiting until ${zonedLocalTime(until.toISOString())} (Ctrl-C stops and writes the receipt)`,
    );
    expect(zonedLocalTime(until.toISOString())).toMatch(/^2026-03-0[12] /);
  });
});

describe('station bundle sync, going on where an earlier sync stopped', () => {
  it('counts the enrollments answered before in its progress', async () => {
    const officeDir = join(dir, 'office');
    const payload = bundle([x509Row(1, 'SN1'), x509Row(2, 'SN2')]);
    const file = join(dir, 'line7.bundle');
    const header = { kind: 'bundle' as const, bundleId: payload.bundleId, writtenAt: T };
    writeFileSync(file, await sealPayload(header, payload, wrapper));
    // The earlier sync: DPS answered SN1 and asked to retry SN2 later than that sync waited.
    const earlier = new InMemoryDps();
    earlier.refuseItem = (e) =>
      e.registrationId === 'reg-sn2' ? { errorCode: 429001, errorStatus: 'Try later' } : undefined;
    const first = await syncBundle({
      dataDir: officeDir,
      payload,
      wrapper,
      dps: earlier,
      dpsHost: DPS_HOST,
      retryWithinMs: 0,
      backoff: { baseMs: 200, capMs: 200 },
    });
    expect(first.summary).toMatchObject({ synced: 1, pending: 1 });

    vi.stubEnv(
      'LINE_STATION_DPS_CONNECTION',
      `HostName=${DPS_HOST};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${Buffer.from('k').toString('base64')}`,
    );
    const dps = new InMemoryDps();
    expect(await bundleSyncCommand(officeDir, file, { by: 'sam' }, () => dps)).toBe(0);
    const progress = output.filter((line) => / of 2 answered/.test(line));
    expect(progress.at(-1)).toBe('  2 of 2 answered (1 before this run)');
    expect(progress.join('\n')).not.toMatch(/ [01] of 2 answered$/m);
    expect(output).toContain('DPS answered: 2 synced, 0 failed, 0 conflict; 0 without an answer.');
  });
});
