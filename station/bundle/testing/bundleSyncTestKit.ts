/**
 * Fixtures for the syncBundle tests (never used at run time): bundles carrying outbox rows as the
 * export writes them, and the wrapper that seals their keys in the work store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import type { IndividualEnrollment } from '../../../dps/service/serviceTypes.js';
import { fakeCertificatePem } from '../../sync/testing/syncTestStation.js';
import {
  BUNDLE_PAYLOAD_FORMAT,
  type BundleEnrollment,
  type BundleHistoryEntry,
  type BundlePayload,
} from '../bundlePayload.js';

// Cheap scrypt and one salt per session: these tests are about DPS calls, not the passphrase.
export const wrapper = new PassphraseKeyWrapper('bundle test passphrase', {
  scrypt: { N: 1024 },
  session: true,
});
export const T = '2026-03-01T10:00:00.000Z';
export const DPS_HOST = 'line7.azure-devices-provisioning.net';

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
export const x509Body = (registrationId: string, certificate: string): IndividualEnrollment => ({
  registrationId,
  attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate } } } },
  provisioningStatus: 'enabled',
});

/** A carried outbox row as the export writes it (ids as the exporting station numbered them). */
export function carried(
  id: number,
  serial: string,
  attestation: BundleEnrollment['attestation'],
  body: object,
  extra: Partial<BundleEnrollment> = {},
): BundleEnrollment {
  const registrationId = `reg-${serial.toLowerCase()}`;
  const text = JSON.stringify({ registrationId, ...body });
  return {
    ...{ id, registrationId, attestation, body: text, bodySha256: sha256(text), attempts: 0 },
    ...{ needsReconcile: false, serialNumber: serial, model: 'm1', createdAt: T, ...extra },
  };
}
export const x509Row = (id: number, serial: string, certificate = fakeCertificatePem()) =>
  carried(id, serial, 'x509-device-key', x509Body(`reg-${serial.toLowerCase()}`, certificate));
const symmetricKeyBody = { attestation: { type: 'symmetricKey', symmetricKey: {} } };
export const symmetricRow = (id: number, serial: string, key: string) =>
  carried(id, serial, 'symmetric-key-individual', symmetricKeyBody, { symmetricKey: key });
export const groupRow = (id: number, serial: string, enrollmentGroupId: string) =>
  carried(id, serial, 'symmetric-key-group', { enrollmentGroupId });

/** A bundle payload of a new ID carrying `enrollments` (and `history`). */
export function bundle(
  enrollments: BundleEnrollment[],
  history: BundleHistoryEntry[] = [],
): BundlePayload {
  const source = { host: 'line7', dataDir: '/var/lib/line-station' };
  return {
    format: BUNDLE_PAYLOAD_FORMAT,
    version: 1,
    bundleId: randomUUID(),
    createdAt: T,
    source,
    enrollments,
    history,
  };
}
