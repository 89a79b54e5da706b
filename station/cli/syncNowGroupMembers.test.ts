/**
 * `station sync now` of a symmetric-key group line against the DPS emulator over HTTPS, with a
 * real CA, the group key stored by `keys set-group` and a real station database. It printed
 * "0 group members (no call)" and counted them synced while DPS held no group at all.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { DPS_CA_ENV, dpsClientFor } from '../production/dpsConnection.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { keys } from './keysCommand.js';
import { syncCommand } from './syncCommand.js';

const PASSPHRASE = 'group line passphrase';
const GROUP_KEY = randomBytes(64).toString('base64');
let line: SyncTestStation;
let emulator: DpsEmulator;
let output: string[];
const sync = syncCommand(dpsClientFor);
const flags = () => ['--data-dir', line.dir];

beforeEach(async () => {
  line = new SyncTestStation();
  emulator = await startDpsEmulator({});
  const caFile = join(line.dir, 'emulator-ca.pem');
  writeFileSync(caFile, emulator.caCertificatePem);
  await initStationCa(join(line.dir, 'ca'), {
    name: 'Group line TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
  });
  output = [];
  vi.spyOn(console, 'log').mockImplementation((text: string) => void output.push(text));
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
  vi.stubEnv('LINE_STATION_GROUP_KEY', GROUP_KEY);
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
  vi.stubEnv(DPS_CA_ENV, caFile);
  expect(await keys(['set-group', '--group', 'gadgets', ...flags()])).toBe(0);
  expect(await sync(['set-connection', ...flags()])).toBe(0);
  output.length = 0;
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await line.close();
  await emulator.close();
});

describe('station sync now, for symmetric-key group members', () => {
  it('counts a member synced only once DPS shows its group with the key stored here', async () => {
    const member = line.provisionGroupMember('G1', 'gadgets');
    expect(await sync(['now', ...flags()])).toBe(1);
    expect(output[0]).toMatch(/^Sent: 0 synced, 1 failed, 0 conflict; \d+ DPS operations\.$/);
    expect(output.at(-1)).toBe('Outbox: 0 pending, 0 synced, 1 failed, 0 conflict.');
    expect(line.row(member)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_GROUP_MISSING',
    });

    const dps = new DpsServiceClient({
      connectionString: parseConnectionString(emulator.serviceConnectionString),
      ca: emulator.caCertificatePem,
    });
    try {
      await dps.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: 'gadgets',
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY } },
      });
    } finally {
      dps.close();
    }
    requeueEnrollments(line.db, { status: 'failed', supervisor: 'sam' });
    output.length = 0;
    expect(await sync(['now', ...flags()])).toBe(0);
    expect(output[0]).toBe(
      "Sent: 1 synced (1 of them group members whose enrollment group DPS showed with this station's group key), 0 failed, 0 conflict; 2 DPS operations.",
    );
    expect(output.at(-1)).toBe('Outbox: 0 pending, 1 synced, 0 failed, 0 conflict.');
  });
});
