import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../store/auditLog.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { ca } from './caCommand.js';
import { queue } from './queueCommand.js';
import { auditEvents, issueByHand, useCaStation } from './testing/caStation.js';
import { zonedLocalTime } from './timeFlags.js';

const station = useCaStation();

describe('station ca revoke', () => {
  it('records the revocation, and says plainly what it did not change outside the station', async () => {
    const { serial } = await issueByHand();
    station.output = [];
    const revoke = ['revoke', serial, '--reason', 'device stolen', '--by', 'kim'];
    expect(await ca([...revoke, '--data-dir', station.dataDir])).toBe(0);
    const said = station.output.join('\n');
    expect(said).toContain(`Certificate ${serial} (dev-1) marked revoked`);
    expect(said).toContain(
      'The station made no enrollment for this certificate (issued by hand, or its run failed), so it changed nothing in DPS.',
    );
    expect(said).toContain('disable or delete the DPS individual enrollment "dev-1"');
    expect(said).toContain('The station publishes no CRL and changes nothing in an IoT hub');

    const [event, ...more] = await auditEvents('certificate.revoked');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      actor: 'supervisor:kim',
      subject: 'dev-1',
      detail: {
        serialNumber: serial,
        reason: 'device stolen',
        statusBefore: 'issued',
        enrollment: null,
        crlPublished: false,
      },
    });

    // A second revoke changes nothing and records nothing.
    station.output = [];
    expect(await ca([...revoke, '--data-dir', station.dataDir])).toBe(1);
    // In local time with its offset, as every other command prints a time: not raw UTC.
    const [{ at }] = (await auditEvents('certificate.revoked')) as [AuditEvent];
    expect(station.output.join('\n')).toContain(
      `was revoked already, at ${zonedLocalTime(at)} (device stolen); nothing changed.`,
    );
    expect(await auditEvents('certificate.revoked')).toHaveLength(1);
  });

  it('withholds an enrollment still pending in the outbox, for good', async () => {
    const db = openStationDatabase(join(station.dataDir, 'station.db'));
    const store = new ProvisioningStore(db);
    const runId = store.beginRun('/dev/ttyUSB1', 'line7', Date.now(), 'auto');
    recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`);
    store.commitPass(passedRun(runId, 'SN-1', { registrationId: `reg-${runId}` }));
    db.close();

    expect(
      await ca(['revoke', `c-${runId}`, '--reason', 'rework', '--data-dir', station.dataDir]),
    ).toBe(0);
    expect(station.output.join('\n')).toMatch(
      /Its enrollment \(outbox row \d+\) was pending and never sent: it is now withheld \(failed, SYNC_CERTIFICATE_REVOKED\), and the station never sends it to DPS\./,
    );
    const [event] = await auditEvents('certificate.revoked');
    expect(event).toMatchObject({
      subject: `reg-${runId}`,
      detail: {
        statusBefore: 'committed',
        enrollment: { status: 'pending', action: 'withheld' },
      },
    });
    // Requeue names it and sends nothing back.
    const reader = openStationDatabase(join(station.dataDir, 'station.db'));
    const [row] = new ProvisioningStore(reader).listOutbox({ limit: 1 });
    reader.close();
    expect(row).toMatchObject({ status: 'failed', lastErrorCode: 'SYNC_CERTIFICATE_REVOKED' });
    const requeue = ['requeue', '--status', 'failed', '--id', String(row!.id), '--by', 'kim'];
    await expect(queue([...requeue, '--data-dir', station.dataDir])).rejects.toMatchObject({
      code: 'QUEUE_REQUEUE_NO_MATCH',
      message: expect.stringContaining(
        `enrollment ${row!.id} carries a revoked certificate and is never sent`,
      ) as string,
    });
  });

  it('records nothing for a serial the CA never issued', async () => {
    await expect(
      ca(['revoke', 'abcdef', '--reason', 'typo', '--by', 'kim', '--data-dir', station.dataDir]),
    ).rejects.toMatchObject({ code: 'CA_UNKNOWN_CERTIFICATE' });
    expect(await auditEvents('certificate.revoked')).toEqual([]);
  });
});
