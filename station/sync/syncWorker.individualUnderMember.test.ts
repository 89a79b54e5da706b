/**
 * A device moved from an individual enrollment to a symmetric-key enrollment group under the
 * same registration ID. DPS takes a device to an individual enrollment of its ID before any
 * group, enabled or disabled, so while the earlier one stays in DPS the member's device cannot
 * register. The sync deletes our own earlier enrollment (If-Match) and only then calls the
 * member synced; another party's record there makes the member a conflict. Real parts: the DPS
 * emulator over HTTPS on 127.0.0.1, the real DPS client, a real station database, the group key
 * sealed as `keys set-group` seals it, and a device registering with the emulator.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { loadGroupKeySource, saveGroupKey } from '../production/groupKeys.js';
import { groupKeyFingerprints } from './groupKeyFingerprint.js';
import type { SyncWorker } from './syncWorker.js';
import { ManualClock } from './testing/manualClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';

const GROUP_KEY = randomBytes(64).toString('base64');

let emulator: DpsEmulator;
let station: SyncTestStation;
let clock: ManualClock;
let sync: SyncWorker;
const clients: DpsServiceClient[] = [];

function client(): DpsServiceClient {
  const connectionString = parseConnectionString(emulator.serviceConnectionString);
  const dps = new DpsServiceClient({ connectionString, ca: emulator.caCertificatePem });
  clients.push(dps);
  return dps;
}

beforeEach(async () => {
  emulator = await startDpsEmulator({});
  station = new SyncTestStation();
  await saveGroupKey(station.dir, 'gadgets', GROUP_KEY, station.wrapper);
  await client().createOrUpdateEnrollmentGroup({
    enrollmentGroupId: 'gadgets',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY } },
    provisioningStatus: 'enabled',
  });
  clock = new ManualClock(Date.now());
  sync = station.worker({
    dps: client(),
    clock,
    groupKeys: groupKeyFingerprints(loadGroupKeySource(station.dir, station.wrapper)),
  });
  sync.start();
});
afterEach(async () => {
  await sync.stop();
  await station.close();
  for (const dps of clients.splice(0)) dps.close();
  await emulator.close();
});

/** SN1's individual symmetric-key enrollment under reg-sn1, synced to DPS. */
async function individualSynced(): Promise<{ id: number; key: string }> {
  const key = randomBytes(32);
  const id = await station.provisionSymmetric('SN1', key);
  await sync.syncNow();
  expect(station.row(id).status).toBe('synced');
  return { id, key: key.toString('base64') };
}

/** Runs the worker until the member's row leaves `pending` (its waits pass on the test clock). */
async function syncUntilSettled(member: number): Promise<void> {
  sync.notify();
  await sync.syncNow();
  for (let round = 0; round < 10 && station.row(member).status === 'pending'; round++) {
    await clock.advance(60_000);
    await sync.syncNow();
  }
}

const memberKey = () => deriveDeviceKey(GROUP_KEY, 'reg-sn1');
const retirementOf = (id: number): unknown =>
  station.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

describe('a device moved to an enrollment group under the same registration ID', () => {
  it('deletes our earlier individual enrollment, then syncs the member, whose device registers', async () => {
    const earlier = await individualSynced();
    const member = station.provisionGroupMember('SN1', 'gadgets');
    expect(station.row(member).registrationId).toBe('reg-sn1');
    // DPS takes the device to the individual enrollment: the group key's device key is refused.
    expect((await registerDevice(emulator, 'reg-sn1', { key: memberKey() })).register.status).toBe(
      401,
    );

    // One "sync now": the member waits, the retirement deletes the earlier enrollment and lets
    // the member go at once, and it is synced only after that deletion.
    sync.notify();
    await sync.syncNow();
    expect(station.row(member)).toMatchObject({ status: 'synced' });
    const [retired] = station.store.audit('enrollment.retired');
    const synced = station.store
      .audit('enrollment.synced')
      .find(
        (e) =>
          e.subject === 'reg-sn1' &&
          (e.detail as { enrollmentId?: number }).enrollmentId === member,
      );
    expect(retired!.id).toBeLessThan(synced!.id);

    expect(await client().getEnrollment('reg-sn1')).toBeUndefined();
    expect(retirementOf(earlier.id)).toBe('absent');
    expect(station.store.audit('enrollment.retired')).toEqual([
      expect.objectContaining({
        subject: 'reg-sn1',
        detail: expect.objectContaining({ outcome: 'absent', how: 'deleted in DPS' }),
      }),
    ]);
    expect(station.row(member)).toMatchObject({ status: 'synced' });
    const registered = await registerDevice(emulator, 'reg-sn1', { key: memberKey() });
    expect(registered.final?.status).toBe(200);
    expect(registered.final?.body).toMatchObject({ status: 'assigned' });
  });

  it('makes the member a conflict when the individual enrollment there is not ours', async () => {
    const earlier = await individualSynced();
    // Someone re-keyed the enrollment in DPS: it is no longer the station's to delete.
    const dps = client();
    const theirs = await dps.getEnrollment('reg-sn1');
    const otherKey = randomBytes(32).toString('base64');
    await dps.createOrUpdateEnrollment(
      {
        registrationId: 'reg-sn1',
        attestation: {
          type: 'symmetricKey',
          symmetricKey: { primaryKey: otherKey, secondaryKey: otherKey },
        },
        provisioningStatus: 'enabled',
      },
      theirs!.etag,
    );
    const member = station.provisionGroupMember('SN1', 'gadgets');

    await syncUntilSettled(member);

    expect(retirementOf(earlier.id)).toBe('not-ours');
    expect(await dps.getEnrollment('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    const row = station.row(member);
    expect(row).toMatchObject({ status: 'conflict', lastErrorCode: 'SYNC_CONFLICT' });
    expect(row.lastError).toContain('before its enrollment group');
    expect(row.dpsRecord).not.toContain(otherKey);
  });
});
