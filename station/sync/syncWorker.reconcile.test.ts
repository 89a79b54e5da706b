import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { fakeCertificatePem, progressReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const x509 = (
  registrationId: string,
  certificate = fakeCertificatePem(),
): IndividualEnrollment => ({
  registrationId,
  attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate } } } },
});
const certificateOf = (record: { attestation?: IndividualEnrollment['attestation'] } | undefined) =>
  record?.attestation?.x509?.clientCertificates?.primary?.certificate;

describe('SyncWorker: what DPS already holds', () => {
  it('keeps a conflict with both sides when DPS holds other credentials, and changes nothing in DPS', async () => {
    const theirs = station.dps.seed(x509('reg-sn1'));
    const id = station.provision('SN1');
    const worker = station.worker();
    worker.start();
    const progress = await worker.syncNow();

    const row = station.row(id);
    expect(row).toMatchObject({
      status: 'conflict',
      lastErrorCode: 'SYNC_CONFLICT',
      etag: theirs.etag,
    });
    expect(row.lastError).toMatch(/match neither this enrollment nor an earlier one/);
    const kept = JSON.parse(row.dpsRecord!) as IndividualEnrollment;
    expect(certificateOf(kept)).toBe(certificateOf(theirs));
    expect(certificateOf(JSON.parse(row.body))).not.toBe(certificateOf(theirs));
    expect(station.dps.held('reg-sn1')).toEqual(theirs);
    expect(station.dps.calls.map((c) => c.method)).toEqual(['bulkEnrollments', 'getEnrollment']);
    expect(station.store.audit('enrollment.conflict')[0]).toMatchObject({
      subject: 'reg-sn1',
      detail: { enrollmentId: id, dpsEtag: theirs.etag, dpsAttestation: 'x509' },
    });
    expect(progress.session.conflicts).toBe(1);
  });

  it('replaces the enrollment of a re-provisioned device with If-Match on the etag it read', async () => {
    const first = station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    const before = station.dps.held('reg-sn1')!;

    const second = station.provision('SN1');
    expect(station.row(first).status).toBe('superseded');
    worker.notify();
    await worker.syncNow();

    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      'bulkEnrollments',
      'getEnrollment',
      'createOrUpdateEnrollment',
    ]);
    const put = station.dps.callsOf('createOrUpdateEnrollment')[0]!;
    expect(put.ifMatch).toBe(before.etag);
    const after = station.dps.held('reg-sn1')!;
    expect(certificateOf(after)).toBe(certificateOf(JSON.parse(station.row(second).body)));
    expect(station.row(second)).toMatchObject({
      status: 'synced',
      etag: after.etag,
      syncNote: 'replaced in DPS',
    });
    expect(station.dps.creations.get('reg-sn1')).toBe(1);
  });

  it('enables its own enrollment that DPS holds disabled, rather than calling it synced', async () => {
    // A device back under a registration ID whose earlier enrollment the station retired, with
    // the same credential (a TPM's endorsement key stays the chip's): DPS holds it disabled.
    const id = station.provision('SN1');
    const ours = JSON.parse(station.row(id).body) as IndividualEnrollment;
    const disabled = station.dps.seed({ ...ours, provisioningStatus: 'disabled' });
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    const put = station.dps.callsOf('createOrUpdateEnrollment')[0];
    expect(put?.ifMatch).toBe(disabled.etag);
    expect(station.dps.held('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    expect(station.row(id)).toMatchObject({ status: 'synced', syncNote: 'replaced in DPS' });
  });

  it('rewrites its own enrollment that DPS holds under the settings of an earlier profile', async () => {
    // A device that keeps its credential (a TPM's endorsement key) re-provisioned after a
    // supervisor moved the product to another hub and twin: the credential alone is ours.
    const same = x509('reg-sn1');
    const first = station.provision('SN1', {
      enrollment: { ...same, initialTwin: { tags: { line: 'A' } }, iotHubs: ['hub-a.example'] },
    });
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    expect(station.row(first).status).toBe('synced');
    // Set in DPS by someone else: the station never writes these, and a rewrite keeps them.
    const before = station.dps.seed({
      ...station.dps.held('reg-sn1')!,
      deviceId: 'sensor-0001',
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });

    const newer = {
      ...same,
      initialTwin: { tags: { line: 'B' }, properties: { desired: { interval: 30 } } },
      iotHubs: ['hub-b.example'],
      capabilities: { iotEdge: true },
    };
    const second = station.provision('SN1', { enrollment: newer });
    worker.notify();
    await worker.syncNow();

    const put = station.dps.callsOf('createOrUpdateEnrollment')[0];
    expect(put?.ifMatch).toBe(before.etag);
    expect(station.dps.held('reg-sn1')).toMatchObject({
      initialTwin: newer.initialTwin,
      iotHubs: ['hub-b.example'],
      capabilities: { iotEdge: true },
      deviceId: 'sensor-0001',
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });
    expect(station.row(second)).toMatchObject({ status: 'synced', syncNote: 'replaced in DPS' });
  });

  it('calls its own enrollment found when DPS holds it under the same settings, spelt its way', async () => {
    const id = station.provision('SN1', {
      enrollment: {
        ...x509('reg-sn1'),
        iotHubs: ['Hub-A.example'],
        initialTwin: { tags: { a: 1, b: 2 } },
      },
    });
    const ours = JSON.parse(station.row(id).body) as IndividualEnrollment;
    // DPS's spelling: its defaults filled in, the hub in the linked hub's case, its twin metadata.
    station.dps.seed({
      ...ours,
      allocationPolicy: 'hashed',
      capabilities: { iotEdge: false },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
      iotHubs: ['hub-a.example'],
      initialTwin: { tags: { b: 2, a: 1 }, properties: { desired: { $version: 1 } } },
    });
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    expect(station.dps.callsOf('createOrUpdateEnrollment')).toHaveLength(0);
    expect(station.row(id)).toMatchObject({ status: 'synced', syncNote: 'found in DPS' });
  });

  it('recognises its earlier enrollment in DPS after the device was reworked many times offline', async () => {
    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    await worker.stop();
    // 30 reworks while DPS is out of reach: none of these rows is ever sent.
    for (let i = 0; i < 30; i++) station.provision('SN1');
    const latest = station.provision('SN1');

    worker.start();
    await worker.syncNow();
    expect(station.row(latest)).toMatchObject({ status: 'synced', syncNote: 'replaced in DPS' });
    expect(certificateOf(station.dps.held('reg-sn1'))).toBe(
      certificateOf(JSON.parse(station.row(latest).body)),
    );
  });

  it('reads again when the record changed between its read and its write (412)', async () => {
    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    const second = station.provision('SN1');

    const put = station.dps.holdNext('createOrUpdateEnrollment');
    worker.notify();
    await put.reached;
    // Someone touches the record in DPS meanwhile (same credentials, new etag).
    const touched = station.dps.seed({ ...station.dps.held('reg-sn1')!, iotHubHostName: 'h' });
    put.release();
    await progressReached(worker, (p) => p.state === 'backoff');
    expect(station.row(second)).toMatchObject({ status: 'pending', needsReconcile: 1 });

    await station.clock.advanceToNextTimer();
    await progressReached(worker, (p) => p.counts.synced === 1 && p.state === 'idle');
    const puts = station.dps.callsOf('createOrUpdateEnrollment');
    expect(puts.map((c) => c.ifMatch)).toEqual([expect.any(String), touched.etag]);
    expect(station.row(second).status).toBe('synced');
  });

  it('does not overwrite a record someone else put in DPS after our earlier enrollment', async () => {
    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    const foreign = station.dps.seed(x509('reg-sn1'));
    const second = station.provision('SN1');
    worker.notify();
    await worker.syncNow();

    expect(station.row(second).status).toBe('conflict');
    expect(station.dps.callsOf('createOrUpdateEnrollment')).toHaveLength(0);
    expect(station.dps.held('reg-sn1')).toEqual(foreign);
  });

  it('recognises its own certificate when DPS answers with thumbprints only', async () => {
    station.dps.echoCertificates = false;
    station.provision('SN1');
    station.dps.failNext('bulkEnrollments', { kind: 'timeout', applied: true });
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_OFFLINE' });
    await worker.syncNow();

    expect(certificateOf(await station.dps.getEnrollment('reg-sn1'))).toBeUndefined();
    expect(station.rows()[0]).toMatchObject({ status: 'synced', syncNote: 'found in DPS' });
  });
});
