import type { PassedRunRecord } from '../line/lineTypes.js';
import type { EarlierProvisioning } from '../line/runRecorder.js';
import type { ProvisioningStatements } from './provisioningStatements.js';
import { StoreError } from './storeError.js';

/** Earlier enrollments in these states may be replaced; `syncing` must settle first. */
const SUPERSEDABLE = new Set(['pending', 'failed', 'conflict', 'synced']);

/**
 * The id of the enrollment a re-provisioning replaces, once it is sure that it may. The line
 * engine looked the earlier pass up before its run; by commit time another slot may have replaced
 * it, or the sync worker may be sending it, and both must stop this commit rather than leave two
 * live enrollments for one device. Call inside the commit transaction.
 */
export function enrollmentToSupersede(
  sql: ProvisioningStatements,
  earlier: EarlierProvisioning,
  record: PassedRunRecord,
): number {
  const row = sql.enrollmentOfRun.get(earlier.runId) as
    | { id: number; status: string; registrationId: string; serialNumber: string; model: string }
    | undefined;
  const sameDevice =
    row?.serialNumber === record.device.serialNumber && row.model === record.device.model;
  if (!row || !(sameDevice || row.registrationId === record.registrationId)) {
    throw new StoreError(
      'STORE_EARLIER_PASS_CHANGED',
      `run ${earlier.runId} has no enrollment for this device or registration ID`,
    );
  }
  if (row.status === 'syncing') {
    throw new StoreError(
      'STORE_ENROLLMENT_BUSY',
      `enrollment ${row.id} (${row.registrationId}) is syncing`,
    );
  }
  if (!SUPERSEDABLE.has(row.status)) {
    throw new StoreError(
      'STORE_EARLIER_PASS_CHANGED',
      `enrollment ${row.id} of run ${earlier.runId} is already ${row.status}`,
    );
  }
  return row.id;
}
