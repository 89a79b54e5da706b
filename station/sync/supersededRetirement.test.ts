import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { declareBundleLost } from '../bundle/bundleLost.js';
import { revokeCertificateOf } from '../store/testing/provisioningFixtures.js';
import { fakeCertificatePem, progressReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * What the retirement of a superseded enrollment does when DPS changes the record between its
 * read and its write (a 412), told with the in-memory DPS so that the write can be held; the
 * rest runs against the emulator (syncWorker.supersededRetirement.test.ts).
 */

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const retirementOf = (id: number) =>
  station.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);
const noteOf = (id: number) =>
  station.db.prepare(`SELECT retire_note FROM enrollments WHERE id = ?`).pluck().get(id);

/** Row `id` carried in outbox bundle `bundleId`, written, its receipt not back (as bundle export records it). */
function carriedInBundle(id: number, bundleId: string): void {
  station.db
    .prepare(
      `INSERT INTO bundles (id, created_at, file, enrollments, written_at)
      VALUES (?, '2026-03-01T10:00:00.000Z', 'f', 1, '2026-03-01T10:00:00.000Z')`,
    )
    .run(bundleId);
  station.db
    .prepare(
      `INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)`,
    )
    .run(bundleId, id, 'a'.repeat(64));
}

describe('retiring a superseded enrollment whose DPS record changed meanwhile', () => {
  it('keeps it due after a 412, and disables it with the new etag at a later pass', async () => {
    const first = station.provision('SN1');
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');

    const put = station.dps.holdNext('createOrUpdateEnrollment');
    worker.notify();
    await put.reached;
    // Someone touches the record in DPS meanwhile (same credentials, new etag).
    const touched = station.dps.seed({ ...station.dps.held('reg-sn1')!, iotHubHostName: 'h' });
    put.release();
    await progressReached(worker, (p) => p.state === 'idle' && p.counts.synced === 1);
    expect(retirementOf(first)).toBe('due');
    expect(station.dps.held('reg-sn1')?.provisioningStatus).not.toBe('disabled');

    // Not retried at once (no loop on the record), but at the next poll.
    await station.clock.advance(5_000);
    await progressReached(worker, (p) => p.state === 'idle');
    const puts = station.dps.callsOf('createOrUpdateEnrollment');
    expect(puts.map((c) => c.ifMatch)).toEqual([expect.any(String), touched.etag]);
    expect(retirementOf(first)).toBe('disabled');
    expect(station.dps.held('reg-sn1')).toMatchObject({
      provisioningStatus: 'disabled',
      iotHubHostName: 'h',
    });
    expect(station.store.audit('enrollment.retired')).toHaveLength(1);
  });

  it('waits longer after each refusal of the row alone, saying why, and holds up no other', async () => {
    const first = station.provision('SN1');
    const other = station.provision('SN2');
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    station.provision('SN2', { registrationId: 'line7-v2-sn2' });
    // DPS refuses the first row's write (a 400 for this record alone), every time.
    station.dps.failNext('createOrUpdateEnrollment', { kind: 'bad-request' });
    worker.notify();
    await progressReached(worker, (p) => p.state === 'idle' && p.counts.synced === 2);
    await progressReached(worker, () => retirementOf(other) === 'disabled');
    const row = () =>
      station.db
        .prepare(
          `SELECT retire_tries AS tries, retire_after AS after, retire_note AS note
          FROM enrollments WHERE id = ?`,
        )
        .get(first) as { tries: number; after: string; note: string };
    expect(retirementOf(first)).toBe('due');
    expect(row()).toMatchObject({ tries: 1, note: expect.stringMatching(/^DPS_/) });
    const firstWait = Date.parse(row().after) - station.clock.now();
    expect(firstWait).toBe(5_000);

    // Refused again at its next try: twice as long before the one after.
    station.dps.failNext('createOrUpdateEnrollment', { kind: 'bad-request' });
    await station.clock.advance(5_000);
    await progressReached(worker, () => row().tries === 2);
    expect(Date.parse(row().after) - station.clock.now()).toBe(10_000);
    const calls = station.dps.calls.length;
    await station.clock.advance(5_000);
    await progressReached(worker, (p) => p.state === 'idle');
    expect(station.dps.calls.length).toBe(calls); // not tried before its time
    await station.clock.advance(5_000);
    await progressReached(worker, () => retirementOf(first) === 'disabled');
  });

  it('does not take a row an unanswered bundle carries for absent: the office may create it yet', async () => {
    const first = station.provision('SN1');
    // Carried in an outbox bundle whose receipt is not back (bundle export, as it records it).
    carriedInBundle(first, 'b1');
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    await progressReached(worker, () => noteOf(first) !== null);
    expect(retirementOf(first)).toBe('due');
    expect(noteOf(first)).toMatch(/receipt is not back/);

    // The office synced the bundle (DPS holds the old enrollment now) and the receipt is home.
    station.dps.seed(JSON.parse(station.row(first).body) as IndividualEnrollment);
    station.db.prepare(`UPDATE bundle_enrollments SET answer_applied = 'synced'`).run();
    await station.clock.advance(5_000);
    await progressReached(worker, () => retirementOf(first) === 'disabled');
    expect(station.dps.held('reg-sn1')?.provisioningStatus).toBe('disabled');
  });

  it('takes the row for absent once a supervisor declared the bundle carrying it lost', async () => {
    const first = station.provision('SN1');
    carriedInBundle(first, 'b1');
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    await progressReached(worker, () => noteOf(first) !== null);
    expect(noteOf(first)).toMatch(/receipt is not back/);

    expect(declareBundleLost(station.db, 'b1', 'ana')).toMatchObject({ retirementsFreed: 1 });
    await station.clock.advance(5_000);
    await progressReached(worker, () => retirementOf(first) === 'absent');
  });

  it('enables again an ID the device took back while its retirement was being written', async () => {
    // The same credential under both of the device's enrollments of reg-sn1, as a TPM's
    // endorsement key is: DPS cannot tell them apart.
    const certificate = fakeCertificatePem();
    const enrollment = (registrationId: string): IndividualEnrollment => ({
      registrationId,
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate } } } },
      provisioningStatus: 'enabled',
    });
    const first = station.provision('SN1', { enrollment: enrollment('reg-sn1') });
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    const put = station.dps.holdNext('createOrUpdateEnrollment');
    worker.notify();
    await put.reached;

    // Back to its first ID while the write is out; its sync finds DPS's record its own.
    const back = station.provision('SN1', {
      registrationId: 'reg-sn1',
      enrollment: enrollment('reg-sn1'),
    });
    expect(retirementOf(first)).toBeNull();
    worker.notify();
    await progressReached(worker, () => station.row(back).status === 'synced');
    put.release();

    // The write went through all the same: the live row is read again and enables it.
    await progressReached(
      worker,
      (p) =>
        p.state === 'idle' &&
        station.store.audit('enrollment.sync-reopened').length === 1 &&
        station.row(back).status === 'synced',
    );
    expect(station.dps.held('reg-sn1')?.provisioningStatus).toBe('enabled');
    // The only retirement recorded is the ID it left on the way (line7-v2-sn1), not reg-sn1.
    await progressReached(worker, () => station.store.audit('enrollment.retired').length === 1);
    expect(station.store.audit('enrollment.retired').map((e) => e.subject)).toEqual([
      'line7-v2-sn1',
    ]);
  });
});

describe('a retirement DPS keeps failing on (a 5xx for that record)', () => {
  it('waits its turn, saying why, and the revocation disable behind it is done meanwhile', async () => {
    const first = station.provision('SN1');
    const stolen = station.provision('SN2');
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('SN1', { registrationId: 'line7-v2-sn1' });
    expect(retirementOf(first)).toBe('due');
    revokeCertificateOf(station.db, stolen);
    const disable = () =>
      station.db
        .prepare(`SELECT state FROM revocation_disables WHERE enrollment_id = ?`)
        .pluck()
        .get(stolen);
    expect(disable()).toBe('due');

    // DPS fails its read of the superseded record, whichever pass comes to it, three times over.
    station.dps.failNext('getEnrollment', { kind: 'server-error' }, 3);
    worker.notify();
    await progressReached(worker, () => noteOf(first) !== null);
    expect(retirementOf(first)).toBe('due');
    expect(noteOf(first)).toMatch(/^DPS_SERVER_ERROR/);
    // The worker backs off after each failed pass; the passes take turns once it resumes.
    for (let i = 0; i < 40 && (disable() !== 'disabled' || retirementOf(first) === 'due'); i++) {
      await station.clock.advance(15_000);
      await progressReached(worker, (p) => p.state !== 'syncing');
    }
    expect(disable()).toBe('disabled');
    expect(retirementOf(first)).toBe('disabled');
    expect(station.dps.held('reg-sn2')?.provisioningStatus).toBe('disabled');
  });
});
