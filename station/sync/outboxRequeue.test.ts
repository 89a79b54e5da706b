import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { requeueEnrollments } from './outboxRequeue.js';
import { fakeCertificatePem, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;
beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const foreign = (registrationId: string): IndividualEnrollment => ({
  registrationId,
  attestation: {
    type: 'x509',
    x509: { clientCertificates: { primary: { certificate: fakeCertificatePem() } } },
  },
});

describe('requeueing enrollments that needed a person', () => {
  it('a conflict fixed in DPS syncs after requeue; one still there is a conflict again', async () => {
    station.dps.seed(foreign('reg-sn1'));
    station.dps.seed(foreign('reg-sn2'));
    const fixed = station.provision('SN1');
    const stillThere = station.provision('SN2');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    expect(station.statuses()).toEqual(['conflict', 'conflict']);

    // The supervisor removes the stray record of SN1 from DPS, then requeues every conflict.
    await station.dps.deleteEnrollment('reg-sn1');
    const requeued = requeueEnrollments(station.db, { status: 'conflict', supervisor: 'maria' });
    expect(requeued).toEqual(['reg-sn1', 'reg-sn2']);
    expect(station.row(fixed)).toMatchObject({ status: 'pending', lastErrorCode: null });

    worker.notify();
    await worker.syncNow();
    expect(station.row(fixed).status).toBe('synced');
    expect(station.row(stillThere).status).toBe('conflict');
    expect(station.store.audit('enrollment.requeued')).toHaveLength(2);
    expect(station.store.audit('enrollment.requeued')[0]).toMatchObject({
      actor: 'supervisor:maria',
      detail: { from: 'conflict', lastErrorCode: 'SYNC_CONFLICT' },
    });
  });

  it('requeues only the named rows of the named status', () => {
    const a = station.provision('SN1');
    const b = station.provision('SN2');
    station.db.prepare(`UPDATE enrollments SET status = 'failed' WHERE id IN (?, ?)`).run(a, b);
    expect(
      requeueEnrollments(station.db, { ids: [b, 999], status: 'failed', supervisor: 's' }),
    ).toEqual(['reg-sn2']);
    expect(
      requeueEnrollments(station.db, { ids: [a], status: 'conflict', supervisor: 's' }),
    ).toEqual([]);
    expect([station.row(a).status, station.row(b).status]).toEqual(['failed', 'pending']);
  });
});
