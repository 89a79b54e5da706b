/**
 * A group member through an outbox bundle after the line's group key was replaced: `keys
 * set-group` (K1), the member provisioned with a key derived from K1, `keys set-group --replace`
 * (K2), then `bundle export`, `bundle sync` against the DPS emulator over HTTPS and `bundle
 * receive`, with real CA, real station databases and real sealed files. The bundle once carried
 * only the line's current key per group, so DPS holding K2 confirmed a device that holds a
 * K1-derived key: each member is checked by the key its own row recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { AttestationMechanism } from '../../dps/service/serviceTypes.js';
import { bundleCommand } from '../cli/bundleCommand.js';
import { keys } from '../cli/keysCommand.js';
import { DPS_CA_ENV, dpsClientFor } from '../production/dpsConnection.js';
import { groupKeyFingerprint } from '../sync/groupKeyFingerprint.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';

const PASSPHRASE = 'line seven ca passphrase';
const K1 = randomBytes(64).toString('base64');
const K2 = randomBytes(64).toString('base64');
let line: SyncTestStation;
let emulator: DpsEmulator;
let dps: DpsServiceClient;
let dir: string;
const bundle = bundleCommand(dpsClientFor);

beforeEach(async () => {
  line = new SyncTestStation();
  dir = mkdtempSync(join(tmpdir(), 'bundle-group-key-'));
  emulator = await startDpsEmulator({});
  dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
  writeFileSync(join(dir, 'emulator-ca.pem'), emulator.caCertificatePem);
  await initStationCa(join(line.dir, 'ca'), {
    name: 'Line 7 TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
  });
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
  vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', 'bundle test passphrase');
  vi.stubEnv(DPS_CA_ENV, join(dir, 'emulator-ca.pem'));
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  dps.close();
  await line.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Stores `key` as the group's key, as a supervisor runs `keys set-group`. */
async function setGroupKey(key: string, ...flags: string[]): Promise<void> {
  vi.stubEnv('LINE_STATION_GROUP_KEY', key);
  const args = ['set-group', '--group', 'gadgets', ...flags, '--data-dir', line.dir];
  expect(await keys(args)).toBe(0);
}

/** Creates or updates DPS's group "gadgets" (with its etag, as a supervisor does). */
async function dpsGroup(symmetricKey: { primaryKey: string; secondaryKey?: string }) {
  const held = await dps.getEnrollmentGroup('gadgets');
  await dps.createOrUpdateEnrollmentGroup(
    {
      enrollmentGroupId: 'gadgets',
      attestation: { type: 'symmetricKey', symmetricKey } as AttestationMechanism,
      provisioningStatus: 'enabled',
    },
    held?.etag,
  );
}

/** export on the line, sync on the office machine, receive back on the line. */
async function carry(name: string): Promise<void> {
  const file = join(dir, name);
  expect(await bundle(['export', '--out', file, '--by', 'sam', '--data-dir', line.dir])).toBe(0);
  await bundle(['sync', file, '--by', 'sam', '--data-dir', join(dir, 'office')]);
  const receipt = file.replace(/\.bundle$/, '.receipt');
  await bundle(['receive', receipt, '--data-dir', line.dir]);
}

describe('a group member through a bundle after its group key was replaced', () => {
  it('is not synced while DPS holds only the new key, and is once DPS holds its key as secondary', async () => {
    await setGroupKey(K1);
    // The row as the attestor writes it: the fingerprint of the key the device key came from.
    const member = line.provision('G1', {
      attestation: 'symmetric-key-group',
      certificateSerial: undefined,
      enrollment: {
        registrationId: 'reg-g1',
        enrollmentGroupId: 'gadgets',
        groupKeyFingerprint: groupKeyFingerprint(Buffer.from(K1, 'base64')),
      },
    });
    await setGroupKey(K2, '--replace');
    await dpsGroup({ primaryKey: K2 });

    await carry('line7.bundle');
    expect(line.row(member)).toMatchObject({
      status: 'failed',
      syncedAt: null,
      lastErrorCode: 'SYNC_GROUP_MISMATCH',
      lastError: expect.stringContaining(
        'the device was given a key derived from another group key than DPS holds',
      ),
    });

    await dpsGroup({ primaryKey: K2, secondaryKey: K1 });
    expect(requeueEnrollments(line.db, { status: 'failed', supervisor: 'sam' })).toEqual([
      'reg-g1',
    ]);
    await carry('line7-again.bundle');
    expect(line.row(member)).toMatchObject({
      status: 'synced',
      syncNote: expect.stringContaining(
        "the group key the device's key was derived from as its secondary key",
      ),
    });
    const registered = await registerDevice(emulator, 'reg-g1', {
      key: deriveDeviceKey(K1, 'reg-g1'),
    });
    expect(registered.final?.status).toBe(200);
  });
});
