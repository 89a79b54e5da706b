/**
 * A group member is confirmed by the group key ITS device key was derived from, not by the key
 * stored on the station now. Members provisioned with K1 (real runs on simulated devices over a
 * pty, the group key sealed in the data folder as `keys set-group` seals it, the PASS committed
 * to a real SQLite store), then the supervisor replaces the station's key with K2 and DPS (the
 * emulator over HTTPS) holds K2: the station and DPS agree, but the devices hold K1-derived keys
 * and would fail in the field, so they must not be synced. Once DPS holds K1 as its secondary
 * key they register, and are synced.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { AttestationMechanism } from '../../dps/service/serviceTypes.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { InMemoryRunRecorder } from '../demo/inMemoryRunRecorder.js';
import { runOn, testProfile, testServices } from '../line/testing/lineTestKit.js';
import { loadGroupKeySource, saveGroupKey } from '../production/groupKeys.js';
import { groupKeyFingerprint, groupKeyFingerprints } from './groupKeyFingerprint.js';
import { requeueEnrollments } from './outboxRequeue.js';
import { ManualClock } from './testing/manualClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';

const GROUP = 'gadgets';
const K1 = randomBytes(64).toString('base64');
const K2 = randomBytes(64).toString('base64');

let emulator: DpsEmulator;
let station: SyncTestStation;
let simulator: Simulator | undefined;
let dps: DpsServiceClient;

beforeEach(async () => {
  emulator = await startDpsEmulator({});
  station = new SyncTestStation();
  dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
});
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
  await station.close();
  dps.close();
  await emulator.close();
});

/** Creates the group, or updates it as a supervisor does (with its etag). */
async function group(keys: { primaryKey: string; secondaryKey?: string }): Promise<void> {
  const held = await dps.getEnrollmentGroup(GROUP);
  await dps.createOrUpdateEnrollmentGroup(
    {
      enrollmentGroupId: GROUP,
      attestation: { type: 'symmetricKey', symmetricKey: keys } as AttestationMechanism,
      provisioningStatus: 'enabled',
    },
    held?.etag,
  );
}

/**
 * Provisions `count` simulated devices as the line does, with the group key stored on the
 * station now, and commits each PASS to the station's store; returns the rows' ids and the
 * device keys (to register with).
 */
async function provisionMembers(
  count: number,
): Promise<{ id: number; regId: string; key: Buffer }[]> {
  simulator = await Simulator.start({ devices: count, link: 'pty', baudRate: 0 });
  const profile = testProfile({
    attestation: { mode: 'symmetric-key-group', enrollmentGroupId: GROUP },
  });
  const services = await testServices(profile, {
    groupKey: loadGroupKeySource(station.dir, station.wrapper),
  });
  const members = [];
  for (const device of simulator.devices) {
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, { profile, recorder, services });
    expect(outcome.state).toBe('pass');
    const record = recorder.passes[0]!;
    const runId = station.store.beginRun(device.hostPath, 'line7', 1_000);
    const id = station.store.commitPass({ ...record, runId });
    const key = Buffer.from(device.state.committed.symmetricKey!);
    members.push({ id, regId: record.registrationId, key });
  }
  return members;
}

describe('group members against a replaced group key, with the DPS emulator', () => {
  it('are not synced when station and DPS hold K2 but the devices were given K1-derived keys; synced once DPS holds K1 as secondary', async () => {
    await saveGroupKey(station.dir, GROUP, K1, station.wrapper);
    const members = await provisionMembers(2);
    // What the row records: the fingerprint of K1, never K1.
    const k1 = groupKeyFingerprint(Buffer.from(K1, 'base64'));
    expect(JSON.parse(station.row(members[0]!.id).body)).toMatchObject({
      enrollmentGroupId: GROUP,
      groupKeyFingerprint: k1,
    });
    // A row of an earlier version (no fingerprint): compared with the station's key as before.
    const legacy = station.provisionGroupMember('OLD1', GROUP);

    // `keys set-group --replace` with K2, and DPS's group holds K2 (the emulator makes up a
    // secondary key, as DPS does).
    await saveGroupKey(station.dir, GROUP, K2, station.wrapper);
    await group({ primaryKey: K2 });
    const sync = station.worker({
      dps,
      clock: new ManualClock(Date.now()),
      groupKeys: groupKeyFingerprints(loadGroupKeySource(station.dir, station.wrapper)),
    });
    sync.start();
    await sync.syncNow();

    for (const { id, regId, key } of members) {
      expect(station.row(id)).toMatchObject({
        status: 'failed',
        syncedAt: null,
        lastErrorCode: 'SYNC_GROUP_MISMATCH',
        lastError: expect.stringMatching(
          /^enrollment group gadgets in DPS will not take this device: the device was given a key derived from another group key than DPS holds \(key fingerprints: the device's group key [0-9a-f]{12}…, DPS's primary [0-9a-f]{12}…, secondary [0-9a-f]{12}…\): provision the device again, or put that group key back in DPS as the group's secondary key$/,
        ),
      });
      expect(station.row(id).lastError).toContain(`the device's group key ${k1.slice(0, 12)}…`);
      // And that is the truth: the device cannot register.
      const refused = await registerDevice(emulator, regId, { key: key.toString('base64') });
      expect(refused.final?.status).not.toBe(200);
    }
    expect(station.row(legacy)).toMatchObject({
      status: 'synced',
      syncNote: expect.stringContaining("the station's group key as its primary key"),
    });

    // The supervisor puts K1 back as the group's secondary key and requeues.
    await group({ primaryKey: K2, secondaryKey: K1 });
    expect(requeueEnrollments(station.db, { status: 'failed', supervisor: 'sam' })).toHaveLength(2);
    await sync.syncNow();
    for (const { id, regId, key } of members) {
      expect(station.row(id)).toMatchObject({
        status: 'synced',
        syncNote: expect.stringContaining(
          "the group key the device's key was derived from as its secondary key",
        ),
      });
      const registered = await registerDevice(emulator, regId, { key: key.toString('base64') });
      expect(registered.final?.status).toBe(200);
    }

    const everything = JSON.stringify([
      station.rows(),
      station.db.prepare('SELECT * FROM audit_events').all(),
    ]);
    expect(everything).not.toContain(K1);
    expect(everything).not.toContain(K2);
    expect(everything).not.toContain(Buffer.from(K1, 'base64').toString('hex'));
  });
});
