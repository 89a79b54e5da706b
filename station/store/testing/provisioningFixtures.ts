import type Database from 'better-sqlite3';
import type { PassedRunRecord } from '../../line/lineTypes.js';
import { CertificateLedger } from '../certificateLedger.js';
import { SupervisedLedger } from '../supervisedLedger.js';

/**
 * Records shaped like the line engine's, for the store's tests and the durability child process.
 * Nothing here touches a device or a CA: certificates are ledger rows with a dummy DER.
 */

/** Records an issued certificate for `registrationId` in the ledger, as the CA does before install. */
export function recordIssuedCertificate(
  db: Database.Database,
  serialNumber: string,
  registrationId: string,
  issuedFor?: string,
): void {
  const recorded = new CertificateLedger(db).record({
    serialNumber,
    subject: `CN=${registrationId}`,
    registrationId,
    fingerprintSha256: `fp-${serialNumber}`,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2029-01-01T00:00:00Z'),
    profile: 'line7',
    keySource: 'device',
    certificateDer: new Uint8Array([0x30, 0x00]),
    ...(issuedFor !== undefined && { issuedFor }),
  });
  if (!recorded) throw new Error(`certificate ${serialNumber} was recorded before`);
}

/** A PASS of the X.509 device-key flow for `serialNumber`, registration ID `reg-<serial>`. */
export function passedRun(
  runId: number,
  serialNumber: string,
  overrides: Partial<PassedRunRecord> = {},
): PassedRunRecord {
  const registrationId = overrides.registrationId ?? `reg-${serialNumber.toLowerCase()}`;
  return {
    runId,
    port: '/dev/ttyUSB3',
    profile: 'line7',
    device: {
      serialNumber,
      model: 'LS-100',
      hardwareRevision: 'B',
      firmwareVersion: '1.4.2',
    },
    registrationId,
    attestation: 'x509-device-key',
    certificateSerial: `c-${runId}`,
    enrollment: {
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: 'MII' } } },
      },
      provisioningStatus: 'enabled',
    },
    steps: [
      { step: 'identify', startedAt: 1_000, endedAt: 1_010 },
      { step: 'commit', startedAt: 1_900, endedAt: 1_905 },
    ],
    startedAt: 1_000,
    finishedAt: 2_000,
    ...overrides,
  };
}

/**
 * Revokes the certificate of the run behind outbox row `enrollmentId`, as `station ca revoke`
 * does (its ledger and its transaction); returns the serial and what became of the row.
 */
export function revokeCertificateOf(db: Database.Database, enrollmentId: number) {
  const { serial } = db
    .prepare(
      `SELECT r.certificate_serial AS serial FROM enrollments e JOIN runs r ON r.id = e.run_id
       WHERE e.id = ?`,
    )
    .get(enrollmentId) as { serial: string };
  const ledger = new SupervisedLedger(db, 'supervisor:kim', {});
  if (!ledger.revoke(serial, 'board stolen from the line')) {
    throw new Error(`certificate ${serial} was not revoked`);
  }
  return { serial, outbox: ledger.revokedEnrollment };
}
