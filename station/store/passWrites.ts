import type { PassedRunRecord } from '../line/lineTypes.js';
import { endorsementKeyElsewhereText, type EarlierProvisioning } from '../line/runRecorder.js';
import type { ProvisioningStatements } from './provisioningStatements.js';
import { StoreError } from './storeError.js';

/**
 * The writes of a PASS that can refuse it, each inside ProvisioningStore's commit transaction:
 * the certificate must be the one issued for this registration ID, the TPM's EK must not have
 * passed on another device, and the registration ID must not be held by a live enrollment. A
 * refusal rolls the whole commit back.
 */

/** Marks the run's certificate committed; STORE_CERTIFICATE_STATE unless it was issued for it. */
export function commitCertificate(
  sql: ProvisioningStatements,
  serial: string,
  registrationId: string,
): void {
  if (sql.commitCertificate.run(serial, registrationId).changes === 1) return;
  const row = sql.certificateState.get(serial) as
    { status: string; registrationId: string } | undefined;
  const why = !row
    ? 'was never recorded as issued'
    : row.status !== 'issued'
      ? `is ${row.status}, not issued`
      : `was issued for ${row.registrationId}, not ${registrationId}`;
  throw new StoreError('STORE_CERTIFICATE_STATE', `certificate ${serial} ${why}`);
}

/**
 * The line asks before it writes to the device, but two devices with one copied EK may run at
 * once: asked again in the commit's transaction, the second of them is never recorded.
 */
export function refuseEndorsementKeyElsewhere(
  sql: ProvisioningStatements,
  record: PassedRunRecord,
): void {
  const ekSha256 = record.evidence?.endorsement?.ekSha256;
  if (ekSha256 === undefined) return;
  const { serialNumber, model } = record.device;
  const other = sql.passOfEndorsementKeyElsewhere.get(ekSha256, serialNumber, model) as
    EarlierProvisioning | undefined;
  if (other === undefined) return;
  throw new StoreError('STORE_EK_ON_ANOTHER_DEVICE', endorsementKeyElsewhereText(ekSha256, other));
}

/** Inserts the outbox row; STORE_DUPLICATE_ENROLLMENT names the live enrollment holding the ID. */
export function insertEnrollment(
  sql: ProvisioningStatements,
  record: PassedRunRecord,
  deviceId: number,
  now: string,
): number {
  try {
    const result = sql.insertEnrollment.run(
      record.registrationId,
      deviceId,
      record.runId,
      record.attestation,
      JSON.stringify(record.enrollment),
      record.sealedSecret ?? null,
      now,
      now,
    );
    return Number(result.lastInsertRowid);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
    const holder = sql.liveEnrollment.get(record.registrationId) as
      { id: number; runId: number } | undefined;
    throw new StoreError(
      'STORE_DUPLICATE_ENROLLMENT',
      `${record.registrationId} is held by enrollment ${holder?.id} (run ${holder?.runId})`,
      { cause: err },
    );
  }
}
