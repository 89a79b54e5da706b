import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { createCertificateAuthority } from '../../dps/emulator/emulatorTls.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { revokeCertificateOf } from '../store/testing/provisioningFixtures.js';
import { requeueEnrollments } from './outboxRequeue.js';
import { RetirementStore } from './retirementStore.js';
import { ManualClock } from './testing/manualClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';
import type { SyncWorker } from './syncWorker.js';

/**
 * `station ca revoke` keeps the revoked certificate out of DPS: an enrollment not yet sent is
 * withheld for good, and one DPS may hold is disabled there by the sync worker, when DPS holds
 * it with that certificate. Real parts: the DPS emulator over HTTPS on 127.0.0.1, the real DPS
 * client and sync worker, a real station database and the supervisor's ledger.
 */

let folder: string;
let emulator: DpsEmulator;
let station: SyncTestStation;
const clients: DpsServiceClient[] = [];

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'revoked-certificate-'));
  emulator = await startDpsEmulator({ storage: { file: join(folder, 'emulator.sqlite') } });
  station = new SyncTestStation();
});
afterEach(async () => {
  await station.close();
  for (const client of clients.splice(0)) client.close();
  await emulator.close();
  rmSync(folder, { recursive: true, force: true });
});

function client(): DpsServiceClient {
  const connectionString = parseConnectionString(emulator.serviceConnectionString);
  const dps = new DpsServiceClient({ connectionString, ca: emulator.caCertificatePem });
  clients.push(dps);
  return dps;
}

function worker(): SyncWorker {
  return station.worker({ dps: client(), clock: new ManualClock(Date.now()) });
}

/** An X.509 PASS of `serial` (registration ID reg-<serial>) with a certificate of its own. */
async function provision(serial: string): Promise<number> {
  const registrationId = `reg-${serial.toLowerCase()}`;
  const { certPem } = await createCertificateAuthority(registrationId);
  return station.provision(serial, {
    enrollment: {
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: certPem } } },
      },
      provisioningStatus: 'enabled',
    },
  });
}

/** Revokes the certificate of the run behind outbox row `id`, as `station ca revoke` does. */
const revoke = (id: number) => revokeCertificateOf(station.db, id);

function outboxRow(id: number) {
  return station.db
    .prepare(
      `SELECT status, last_error_code AS code, last_error AS error, retirement
       FROM enrollments WHERE id = ?`,
    )
    .get(id) as {
    status: string;
    code: string | null;
    error: string | null;
    retirement: string | null;
  };
}

const absent = async (id: string) => (await client().getEnrollment(id)) === undefined;

/** Where disabling the row in DPS stands (migration 022), if it is due at all. */
function disable(id: number) {
  return station.db
    .prepare(
      `SELECT state, settled_at AS settledAt FROM revocation_disables WHERE enrollment_id = ?`,
    )
    .get(id) as { state: string; settledAt: string | null } | undefined;
}

describe('a revoked certificate in the outbox', () => {
  it('withholds an enrollment never sent: the sync never creates it, requeue refuses it', async () => {
    const revokedRow = await provision('SN1');
    const otherRow = await provision('SN2');
    const { serial, outbox } = revoke(revokedRow);
    expect(outbox).toEqual({ id: revokedRow, status: 'pending', action: 'withheld' });
    expect(outboxRow(revokedRow)).toMatchObject({
      status: 'failed',
      code: 'SYNC_CERTIFICATE_REVOKED',
      retirement: null,
    });
    expect(disable(revokedRow)).toBeUndefined();
    expect(outboxRow(revokedRow).error).toContain(`certificate ${serial} was revoked`);

    const sync = worker();
    sync.start();
    await sync.syncNow();
    expect(station.row(otherRow).status).toBe('synced');
    expect(await absent('reg-sn1')).toBe(true);

    // Neither by status nor by id does it go back to pending.
    expect(requeueEnrollments(station.db, { status: 'failed', supervisor: 'kim' })).toEqual([]);
    expect(
      requeueEnrollments(station.db, { status: 'failed', ids: [revokedRow], supervisor: 'kim' }),
    ).toEqual([]);
    await sync.syncNow();
    expect(outboxRow(revokedRow).status).toBe('failed');
    expect(await absent('reg-sn1')).toBe(true);

    const [event] = station.store.audit('certificate.revoked');
    expect(event).toMatchObject({
      actor: 'supervisor:kim',
      subject: 'reg-sn1',
      detail: { enrollment: { id: revokedRow, status: 'pending', action: 'withheld' } },
    });
  });

  it('disables a synced enrollment in DPS at the next sync, and only that one', async () => {
    const revokedRow = await provision('SN1');
    const otherRow = await provision('SN2');
    const sync = worker();
    sync.start();
    await sync.syncNow();
    expect(station.row(revokedRow).status).toBe('synced');

    expect(revoke(revokedRow).outbox).toEqual({
      id: revokedRow,
      status: 'synced',
      action: 'disabling',
    });
    expect(outboxRow(revokedRow)).toMatchObject({ status: 'synced', retirement: null });
    expect(disable(revokedRow)).toEqual({ state: 'due', settledAt: null });

    sync.notify();
    await sync.syncNow();
    const dps = client();
    expect(await dps.getEnrollment('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(await dps.getEnrollment('reg-sn2')).toMatchObject({ provisioningStatus: 'enabled' });
    expect(outboxRow(revokedRow).status).toBe('synced');
    expect(disable(revokedRow)).toEqual({ state: 'disabled', settledAt: expect.any(String) });
    expect(station.row(otherRow).status).toBe('synced');
    expect(station.store.audit('enrollment.revocation-disabled')).toMatchObject([
      {
        actor: 'station',
        subject: 'reg-sn1',
        detail: { enrollmentId: revokedRow, outcome: 'disabled', how: 'disabled in DPS' },
      },
    ]);
    // Nothing more to do at the next pass.
    await sync.syncNow();
    expect(station.store.audit('enrollment.revocation-disabled')).toHaveLength(1);
  });

  // A retirement of the same ID that lands after a take-back reads the live row from DPS
  // again; a revoked one would then enable in DPS what its revocation disables there.
  it('is never reopened for another sync by a late retirement of its ID', async () => {
    const revokedRow = await provision('SN1');
    const sync = worker();
    sync.start();
    await sync.syncNow();
    revoke(revokedRow);
    await sync.stop();
    const store = new RetirementStore(station.db, () => Date.now());
    expect(store.reopenLive('reg-sn1')).toBe(0);
    expect(station.row(revokedRow).status).toBe('synced');
  });

  // The batch that claimed it created it in DPS, and its answer never came back (the station
  // stopped, the link dropped): the row is withheld, and DPS's record disabled all the same.
  it('withholds a row caught mid-sync and disables what the lost answer left in DPS', async () => {
    const revokedRow = await provision('SN1');
    const body = JSON.parse(
      (
        station.db.prepare('SELECT body FROM enrollments WHERE id = ?').get(revokedRow) as {
          body: string;
        }
      ).body,
    ) as IndividualEnrollment;
    await client().createOrUpdateEnrollment(body);
    station.db
      .prepare(`UPDATE enrollments SET status = 'syncing', attempts = 1 WHERE id = ?`)
      .run(revokedRow);

    expect(revoke(revokedRow).outbox).toMatchObject({ action: 'withheld-disabling' });
    expect(outboxRow(revokedRow)).toMatchObject({
      status: 'failed',
      code: 'SYNC_CERTIFICATE_REVOKED',
    });
    expect(disable(revokedRow)?.state).toBe('due');

    const sync = worker();
    sync.start();
    await sync.syncNow();
    expect(await client().getEnrollment('reg-sn1')).toMatchObject({
      provisioningStatus: 'disabled',
    });
    expect(outboxRow(revokedRow).status).toBe('failed');
    expect(disable(revokedRow)?.state).toBe('disabled');
  });

  it('leaves an enrollment the device was provisioned again over to its successor', async () => {
    const revokedRow = await provision('SN1');
    const successor = await provision('SN1');
    expect(revoke(revokedRow).outbox).toEqual({
      id: revokedRow,
      status: 'superseded',
      action: 'superseded',
    });
    const sync = worker();
    sync.start();
    await sync.syncNow();
    expect(station.row(successor).status).toBe('synced');
    expect(await client().getEnrollment('reg-sn1')).toMatchObject({
      provisioningStatus: 'enabled',
    });
    // Never sent: nothing to disable, and the successor's record was left alone.
    expect(disable(revokedRow)).toBeUndefined();
  });

  // In DPS, then provisioned again under the same ID, and both certificates revoked (as the
  // text advises): the later one is withheld and replaces nothing, so the first stayed enabled.
  it('disables a superseded one DPS still holds, once no later enrollment replaced it', async () => {
    const first = await provision('SN1');
    const sync = worker();
    sync.start();
    await sync.syncNow();
    expect(station.row(first).status).toBe('synced');
    await sync.stop();
    const second = await provision('SN1');

    expect(revoke(first).outbox).toEqual({ id: first, status: 'superseded', action: 'superseded' });
    expect(disable(first)?.state).toBe('due');
    expect(revoke(second).outbox).toMatchObject({ id: second, action: 'withheld' });

    const again = worker();
    again.start();
    await again.syncNow();
    expect(await client().getEnrollment('reg-sn1')).toMatchObject({
      provisioningStatus: 'disabled',
    });
    expect(disable(first)?.state).toBe('disabled');
  });
});
