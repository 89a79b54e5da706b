/**
 * Symmetric-key group members against the DPS emulator over HTTPS, with a real station database
 * and the group key sealed in the data folder as `keys set-group` seals it. A member needs no
 * enrollment of its own, but it was marked synced although DPS was never asked anything, and
 * devices then failed in the field: it is synced only once DPS shows its enrollment group,
 * enabled, symmetric-key, holding the station's key; failed with its own code when the group is
 * missing or will not take it; pending while DPS cannot be asked.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { AttestationMechanism } from '../../dps/service/serviceTypes.js';
import { loadGroupKeySource, saveGroupKey } from '../production/groupKeys.js';
import { groupKeyFingerprints } from './groupKeyFingerprint.js';
import { requeueEnrollments } from './outboxRequeue.js';
import type { SyncWorker } from './syncWorker.js';
import { ManualClock } from './testing/manualClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let emulator: DpsEmulator;
let station: SyncTestStation;
const clients: DpsServiceClient[] = [];
/** The group key a supervisor stored on this station (and, where a test says, in DPS). */
const GROUP_KEY = randomBytes(64).toString('base64');
const OTHER_KEY = randomBytes(64).toString('base64');

beforeEach(async () => {
  emulator = await startDpsEmulator({});
  station = new SyncTestStation();
});
afterEach(async () => {
  await station.close();
  for (const client of clients.splice(0)) client.close();
  await emulator.close();
});

/** A DPS client for the emulator; with `key`, another shared access key than its own. */
function client(key?: string): DpsServiceClient {
  const real = emulator.serviceConnectionString;
  const connectionString = parseConnectionString(
    key === undefined ? real : real.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${key}`),
  );
  const dps = new DpsServiceClient({ connectionString, ca: emulator.caCertificatePem });
  clients.push(dps);
  return dps;
}

/** Stores the group key of each group on the station, sealed as `keys set-group` seals it. */
async function storeGroupKeys(...groups: string[]): Promise<void> {
  for (const group of groups) await saveGroupKey(station.dir, group, GROUP_KEY, station.wrapper);
}

/** The worker a line runs: the emulator, and the station's sealed group keys. */
function worker(dps = client()): SyncWorker {
  return station.worker({
    dps,
    clock: new ManualClock(Date.now()),
    groupKeys: groupKeyFingerprints(loadGroupKeySource(station.dir, station.wrapper)),
  });
}

const symmetricGroup = (keys: { primaryKey: string; secondaryKey?: string }) =>
  ({ type: 'symmetricKey', symmetricKey: keys }) as AttestationMechanism;

async function createGroup(
  enrollmentGroupId: string,
  attestation: AttestationMechanism,
  provisioningStatus: 'enabled' | 'disabled' = 'enabled',
): Promise<void> {
  await client().createOrUpdateEnrollmentGroup({
    enrollmentGroupId,
    attestation,
    provisioningStatus,
  });
}

/** Everything the station wrote down: rows and audit trail, to search for a key. */
const everything = () =>
  JSON.stringify([station.rows(), station.db.prepare('SELECT * FROM audit_events').all()]);

describe('sync of symmetric-key group members, against the DPS emulator', () => {
  it('fails members whose group DPS does not hold, then syncs them once it holds it with the station key', async () => {
    await storeGroupKeys('gadgets');
    const members = [
      station.provisionGroupMember('G1', 'gadgets'),
      station.provisionGroupMember('G2', 'gadgets'),
    ];
    const sync = worker();
    sync.start();
    const first = await sync.syncNow();

    expect(emulator.stats()).toMatchObject({ enrollments: 0 });
    expect((await client().queryEnrollmentGroups('SELECT * FROM enrollmentGroups')).items).toEqual(
      [],
    );
    expect(first.session).toMatchObject({ synced: 0, groupConfirmed: 0, failed: 2 });
    for (const id of members) {
      expect(station.row(id)).toMatchObject({
        status: 'failed',
        syncedAt: null,
        lastErrorCode: 'SYNC_GROUP_MISSING',
        lastError: expect.stringContaining(
          'create enrollment group gadgets in DPS with symmetric-key attestation and the group key stored on this station, then requeue',
        ),
      });
    }
    expect(station.store.audit('enrollment.synced')).toEqual([]);
    expect(station.store.audit('enrollment.sync-failed')).toHaveLength(2);

    // The supervisor creates the group with the station's key, requeues, and syncs again.
    await createGroup('gadgets', symmetricGroup({ primaryKey: GROUP_KEY }));
    expect(requeueEnrollments(station.db, { status: 'failed', supervisor: 'sam' })).toHaveLength(2);
    const operationsBefore = first.session.operations;
    const second = await sync.syncNow();

    // One look at the group for both members: its GET, then its keys (withheld from GET).
    expect(second.session.operations - operationsBefore).toBe(2);
    expect(second.session).toMatchObject({ synced: 2, groupConfirmed: 2, failed: 2 });
    expect(station.statuses()).toEqual(['synced', 'synced']);
    expect(station.row(members[0]!).syncNote).toBe(
      "confirmed by enrollment group gadgets in DPS (enabled, symmetric keys, the station's group key as its primary key)",
    );
    // The trail lists the newest first.
    expect(station.store.audit('enrollment.synced').at(-1)).toMatchObject({
      subject: 'reg-g1',
      detail: { how: 'confirmed-by-group', note: expect.stringContaining('gadgets') },
    });
    // Synced means what it says: the device registers through that group with its key.
    const registered = await registerDevice(emulator, 'reg-g1', {
      key: deriveDeviceKey(GROUP_KEY, 'reg-g1'),
    });
    expect(registered.final?.status).toBe(200);
    expect(emulator.stats()).toMatchObject({ enrollments: 0 });
    expect(everything()).not.toContain(GROUP_KEY);
  });

  it('fails members of a group that is disabled, of another attestation or another key, saying what differs', async () => {
    await storeGroupKeys('g-other', 'g-disabled', 'g-x509', 'g-second');
    await createGroup('g-other', symmetricGroup({ primaryKey: OTHER_KEY }));
    await createGroup('g-disabled', symmetricGroup({ primaryKey: GROUP_KEY }), 'disabled');
    await createGroup('g-x509', {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: emulator.caCertificatePem } } },
    });
    // DPS's secondary key is the station's: a device with a key derived from it registers.
    await createGroup(
      'g-second',
      symmetricGroup({ primaryKey: OTHER_KEY, secondaryKey: GROUP_KEY }),
    );
    const other = station.provisionGroupMember('M1', 'g-other');
    const disabled = station.provisionGroupMember('M2', 'g-disabled');
    const x509 = station.provisionGroupMember('M3', 'g-x509');
    const second = station.provisionGroupMember('M4', 'g-second');
    const sync = worker();
    sync.start();
    await sync.syncNow();

    const mismatch = (id: number) => {
      const row = station.row(id);
      expect(row).toMatchObject({ status: 'failed', lastErrorCode: 'SYNC_GROUP_MISMATCH' });
      return row.lastError!;
    };
    expect(mismatch(other)).toMatch(
      /^enrollment group g-other in DPS will not take this device: neither its primary nor its secondary key is the group key stored on this station \(key fingerprints: this station's [0-9a-f]{12}…, DPS's primary [0-9a-f]{12}…, secondary [0-9a-f]{12}…\)$/,
    );
    expect(mismatch(disabled)).toBe(
      'enrollment group g-disabled in DPS will not take this device: it is disabled',
    );
    expect(mismatch(x509)).toBe(
      'enrollment group g-x509 in DPS will not take this device: it uses x509 attestation, not symmetric keys',
    );
    expect(station.row(second)).toMatchObject({
      status: 'synced',
      syncNote: expect.stringContaining("the station's group key as its secondary key"),
    });
    const text = everything();
    expect(text).not.toContain(GROUP_KEY);
    expect(text).not.toContain(OTHER_KEY);
  });

  it('keeps members pending, never synced, while DPS refuses the station credentials or is out of reach', async () => {
    await storeGroupKeys('gadgets');
    await createGroup('gadgets', symmetricGroup({ primaryKey: GROUP_KEY }));
    const member = station.provisionGroupMember('G1', 'gadgets');
    const refused = worker(client(randomBytes(32).toString('base64')));
    refused.start();
    await expect(refused.syncNow()).rejects.toMatchObject({ code: 'SYNC_CREDENTIALS_REFUSED' });
    await refused.stop();
    expect(station.row(member)).toMatchObject({
      status: 'pending',
      syncedAt: null,
      lastErrorCode: 'SYNC_CREDENTIALS_REFUSED',
    });

    await emulator.close();
    const offline = worker();
    offline.start();
    await expect(offline.syncNow()).rejects.toMatchObject({
      code: 'SYNC_DPS_CONNECTION_REFUSED',
    });
    await offline.stop();
    expect(station.row(member)).toMatchObject({ status: 'pending', syncedAt: null });
    expect(station.store.audit('enrollment.synced')).toEqual([]);
    emulator = await startDpsEmulator({});
  });

  it('keeps members pending when the station holds no key for their group, without asking DPS', async () => {
    const member = station.provisionGroupMember('G1', 'no-key-here');
    const sync = worker();
    sync.start();
    const progress = await sync.syncNow();
    expect(progress.session.operations).toBe(0);
    expect(station.row(member)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_GROUP_KEY_UNAVAILABLE',
      lastError: expect.stringMatching(/^the key of enrollment group no-key-here does not open/),
    });
  });
});
