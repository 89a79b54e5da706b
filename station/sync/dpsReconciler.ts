import { DpsError } from '../../dps/dpsErrors.js';
import type { DpsServiceApi, IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import {
  fingerprintOf,
  sameCredential,
  type CredentialFingerprint,
} from './credentialFingerprint.js';
import { dpsErrorRecord, describeDpsError, isWorkerLevel } from './dpsOutcome.js';
import type { EnrollmentGroupChecks } from './enrollmentGroupCheck.js';
import { keepingTheirFields, settingsDiffering } from './enrollmentSettings.js';
import { fingerprintOfRow, type OpenSecret, type PreparedEnrollment } from './enrollmentRequest.js';
import type { OutboxSyncStore, Settlement } from './outboxSyncStore.js';

/** The calls of one batch: `ask` reads DPS, `send` may change it (and so flags its rows). */
export interface BatchCalls {
  ask<T>(call: () => Promise<T>): Promise<T>;
  send<T>(items: PreparedEnrollment[], call: () => Promise<T>): Promise<T>;
}

/** What reconciling needs besides the calls. */
export interface ReconcileContext {
  dps: DpsServiceApi;
  store: Pick<OutboxSyncStore, 'superseded' | 'individualUnderMember'>;
  openSecret: OpenSecret;
  /** What DPS shows of the enrollment groups of symmetric-key group members. */
  groups: Pick<EnrollmentGroupChecks, 'verdict'>;
  /** When a row-level retry (a 412) may run again, ms since epoch. */
  retryAt(attempts: number): number;
  /** DPS answered a call (with a result or an HTTP error): it is reachable. */
  onAnswered?(): void;
}

/**
 * Reads what DPS holds for an enrollment and decides (the "GET, compare, then PUT with If-Match"
 * recipe of dps-protocol.md §1.8):
 * - nothing: `'absent'`, the caller creates it;
 * - our credentials and settings: synced (`found`), with DPS's etag; our credentials under
 *   other settings, or disabled: replaced by a PUT with If-Match;
 * - the credentials of an earlier, superseded enrollment of ours (a re-provisioned device):
 *   replaced by a PUT with If-Match, so a change made in DPS meanwhile is not overwritten;
 * - anything else: conflict, DPS's record kept without secrets for the supervisor.
 * Row-level DPS refusals settle the row as failed; worker-level errors are thrown.
 */
export async function reconcileWithDps(
  item: PreparedEnrollment,
  ctx: ReconcileContext,
  calls: BatchCalls,
): Promise<Settlement | 'absent'> {
  const id = item.row.registrationId;
  try {
    const record = await calls.ask(() => ctx.dps.getEnrollment(id));
    if (record === undefined) return 'absent';
    const theirs = fingerprintOf(record.attestation) ?? (await readAttestation(id, ctx, calls));
    if (theirs === 'deleted') return 'absent';
    if (theirs !== undefined && sameCredential(theirs, item.fingerprint)) {
      // Ours, but disabled (an earlier enrollment of this device retired under this ID, and the
      // device came back to it with the same credential, as a TPM's endorsement key does):
      // enabled again by our enrollment, which the device's registration needs. Ours under
      // settings an earlier profile wrote (another hub, another twin): rewritten the same way.
      if (
        record.provisioningStatus === 'disabled' ||
        settingsDiffering(item.enrollment, record).length > 0
      ) {
        return await replace(item, record, ctx, calls);
      }
      return { kind: 'synced', how: 'found', ...(record.etag && { etag: record.etag }) };
    }
    if (theirs !== undefined && (await isOurEarlier(id, theirs, ctx))) {
      return await replace(item, record, ctx, calls);
    }
    const kind = theirs?.kind ?? 'unreadable';
    return {
      kind: 'conflict',
      detail: `DPS holds ${kind} credentials for ${id} that match neither this enrollment nor an earlier one of this station`,
      dpsRecord: withoutSecrets(record),
    };
  } catch (err) {
    if (isWorkerLevel(err)) throw err;
    return rejected(err as DpsError);
  }
}

/**
 * DPS withholds symmetric keys on GET; the attestation mechanism read returns them. `'deleted'`
 * when the enrollment went from DPS between the two reads: then there is nothing to compare.
 */
async function readAttestation(
  id: string,
  ctx: ReconcileContext,
  calls: BatchCalls,
): Promise<CredentialFingerprint | undefined | 'deleted'> {
  try {
    return fingerprintOf(await calls.ask(() => ctx.dps.getEnrollmentAttestation(id)));
  } catch (err) {
    if (err instanceof DpsError && err.code === 'DPS_NOT_FOUND') return 'deleted';
    throw err;
  }
}

async function isOurEarlier(
  registrationId: string,
  theirs: CredentialFingerprint,
  ctx: ReconcileContext,
): Promise<boolean> {
  for (const earlier of ctx.store.superseded(registrationId)) {
    try {
      if (sameCredential(theirs, await fingerprintOfRow(earlier, ctx.openSecret))) return true;
    } catch {
      // An earlier row whose body or key cannot be read proves nothing either way.
    }
  }
  return false;
}

async function replace(
  item: PreparedEnrollment,
  record: IndividualEnrollment,
  ctx: ReconcileContext,
  calls: BatchCalls,
): Promise<Settlement> {
  if (!record.etag) {
    return {
      kind: 'conflict',
      detail:
        'DPS holds an enrollment of this station to rewrite (an earlier one, disabled, or under other settings) but gave no etag to do it by',
      dpsRecord: withoutSecrets(record),
    };
  }
  const etag = record.etag;
  try {
    const updated = await calls.send([item], () =>
      ctx.dps.createOrUpdateEnrollment(keepingTheirFields(item.enrollment, record), etag),
    );
    return { kind: 'synced', how: 'replaced', ...(updated.etag && { etag: updated.etag }) };
  } catch (err) {
    if (
      err instanceof DpsError &&
      (err.code === 'DPS_PRECONDITION_FAILED' || err.code === 'DPS_NOT_FOUND')
    ) {
      // Changed or deleted in DPS between our read and our write: read again, later.
      return {
        kind: 'retry',
        code: 'SYNC_DPS_RETRY',
        detail: describeDpsError(err),
        at: ctx.retryAt(item.row.attempts),
        reconcile: true,
      };
    }
    throw err;
  }
}

function rejected(err: DpsError): Settlement {
  return {
    kind: 'failed',
    code: 'SYNC_DPS_REJECTED',
    detail: describeDpsError(err),
    dpsError: dpsErrorRecord(err),
  };
}

/** DPS's record as the outbox may keep it: symmetric keys removed, should DPS have sent any. */
export function withoutSecrets(record: IndividualEnrollment): IndividualEnrollment {
  const copy = structuredClone(record);
  if (copy.attestation?.symmetricKey !== undefined) copy.attestation.symmetricKey = {};
  return copy;
}
