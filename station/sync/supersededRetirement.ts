import type Database from 'better-sqlite3';
import { DpsError } from '../../dps/dpsErrors.js';
import type {
  AttestationMechanism,
  DpsServiceApi,
  IndividualEnrollment,
} from '../../dps/service/serviceTypes.js';
import { fingerprintOf, sameCredential } from './credentialFingerprint.js';
import { isWorkerLevel, mayBeAboutTheRecord, noticingAnswer } from './dpsOutcome.js';
import {
  prepareEnrollment,
  type OpenSecret,
  type OutboxRow,
  type PreparedEnrollment,
} from './enrollmentRequest.js';
import { RetirementStore, type RetirementOutcome } from './retirementStore.js';
import { SyncError } from './syncErrors.js';

/** The longest a due row DPS did not settle waits before its next try. */
const MAX_RETIRE_WAIT_MS = 60 * 60_000;

/** Rows retired per pass at most: each costs DPS two or three operations of the same budget. */
export const RETIREMENTS_PER_PASS = 25;

/** What a SupersededRetirement works with: the worker's rate-limited DPS and its clock. */
export interface RetirementParts {
  db: Database.Database;
  now: () => number;
  /** The worker's DPS: every call passes its rate limiter, as the batches' calls do. */
  dps: DpsServiceApi;
  openSecret: OpenSecret;
  /** How long a row that could not settle now (a 412, a locked key) waits, ms. */
  retryMs: number;
  /** DPS answered a call (with a result or an HTTP error): it is reachable. */
  onAnswered?(): void;
}

/** What one pass did; `failure` is the worker-level error that ended it early. */
export interface RetirementPass {
  settled: number;
  failure?: unknown;
}

/** The station's own problems that waiting may cure: the row stays due. */
const STATION_WAITS = new Set(['SYNC_SECRET_LOCKED']);

/**
 * Retires superseded enrollments that DPS may still hold under a registration ID their device
 * no longer uses (migration 017): the ID changed at re-provisioning, so the successor's sync
 * did not replace them, and they stayed enabled with credentials the device lost. Each is read
 * from DPS and, when DPS holds it with this station's credentials, disabled by a PUT with
 * If-Match on the etag read (dps-protocol.md §1.8), not deleted: the supervisor keeps seeing
 * it. The one exception is a record under an ID a group member uses now, deleted (If-Match),
 * since DPS would take the member's device to it before its group, disabled or not. Another
 * party's record under that ID is never touched (`not-ours`).
 */
export class SupersededRetirement {
  private readonly store: RetirementStore;

  constructor(private readonly parts: RetirementParts) {
    this.store = new RetirementStore(parts.db, parts.now);
  }

  /** Whether a pass has work now. */
  isDue(): boolean {
    return this.store.hasDue();
  }

  /**
   * Retires up to RETIREMENTS_PER_PASS due rows, oldest first, each settled as soon as DPS
   * answered for it. Never throws: a worker-level error (DPS out of reach, throttled, refused
   * credentials, a pause, the database) ends the pass as `failure`, the rows left stay `due`.
   */
  async run(): Promise<RetirementPass> {
    return settleDueRows(this.store, this.parts.retryMs, async (due) => {
      // Due as it was read: a group member's commit meanwhile turns a disable into a delete.
      const stillDue = () => this.store.dueRow(due.row.id)?.heldByGroup === due.heldByGroup;
      const retired = await retireSuperseded(due.row, {
        ...this.parts,
        mayYetBeCreated: due.inUnansweredBundle,
        heldByGroup: due.heldByGroup,
        stillDue,
      });
      if ('wait' in retired || this.store.settle(due, retired.outcome, retired.detail)) {
        return retired;
      }
      // Disabled or deleted in DPS just as a commit took the ID back: its live row is read
      // from DPS again, and enables or creates it again.
      if (wroteToDps(retired)) this.store.reopenLive(due.row.registrationId);
      return undefined;
    });
  }
}

/** The store side of a pass over rows due to be disabled (or deleted) in DPS. */
export interface DueRowStore<D> {
  dueRows(limit: number): D[];
  dueRow(id: number): D | undefined;
  postpone(due: D, why: string, afterMs: number): boolean;
}

/**
 * One pass over up to RETIREMENTS_PER_PASS due rows, oldest first: each is asked for again
 * before its turn (a commit, or a receipt, may have settled it while the pass went on), then
 * `retire`d, which settles it and returns how it ended, or `wait`, or undefined when it was no
 * longer due. A row that has to wait is postponed, longer each time up to an hour: a row DPS
 * keeps refusing must not hold up the others, nor spend DPS's budget every few seconds. Never
 * throws: a worker-level error (DPS out of reach, throttled, refused credentials, a pause, the
 * database) ends the pass as `failure`, the rows left stay due.
 */
export async function settleDueRows<D extends { row: OutboxRow; tries: number }>(
  store: DueRowStore<D>,
  retryMs: number,
  retire: (due: D) => Promise<Retired | Waiting | undefined>,
): Promise<RetirementPass> {
  let settled = 0;
  let current: D | undefined;
  const waitOf = (due: D) => Math.min(MAX_RETIRE_WAIT_MS, retryMs * 2 ** due.tries);
  try {
    for (const listed of store.dueRows(RETIREMENTS_PER_PASS)) {
      current = store.dueRow(listed.row.id);
      if (current === undefined) continue;
      const retired = await retire(current);
      if (retired === undefined) continue;
      if ('wait' in retired) store.postpone(current, retired.wait, waitOf(current));
      else settled++;
    }
  } catch (err) {
    // DPS failing on this record (a 5xx, an unreadable answer) ends the pass as any worker-level
    // error does, and the row waits its turn as a refused one does: else every pass would start
    // with it, and a revoked certificate behind it would stay enabled in DPS.
    if (current !== undefined && mayBeAboutTheRecord(err)) {
      try {
        store.postpone(current, `${err.code}: ${err.detail ?? err.message}`, waitOf(current));
      } catch {
        // The database refused: the pass's own failure is the one to report.
      }
    }
    return { settled, failure: err };
  }
  return { settled };
}

/** What one retirement came to, and what its audit event says of it (no secret). */
export type Retired = { outcome: RetirementOutcome; detail: Record<string, unknown> };

/** A row that cannot settle now, and why (a 412, a locked key, a refusal of this row alone). */
export interface Waiting {
  wait: string;
}

/** What retiring one row needs: a DPS (the worker's rate-limited one), the credential opener. */
export interface RetireParts {
  dps: DpsServiceApi;
  openSecret: OpenSecret;
  /** DPS answered a call (with a result or an HTTP error): it is reachable. */
  onAnswered?(): void;
  /**
   * Another machine may still create the enrollment in DPS (it is carried in an outbox bundle
   * whose receipt is not back): DPS not holding it then settles nothing.
   */
  mayYetBeCreated?: boolean;
  /** Whether the row is still due, asked right before the write that disables it. */
  stillDue?: () => boolean;
  /**
   * A group member uses the registration ID now: our record is deleted, not disabled, as any
   * individual enrollment under the ID takes precedence over the member's group.
   */
  heldByGroup?: boolean;
}

/** How a retirement says it wrote to DPS, in its detail (and a receipt's). */
const DISABLED_IN_DPS = 'disabled in DPS';
const DELETED_IN_DPS = 'deleted in DPS';

/**
 * Whether a retirement wrote to DPS (disabled or deleted the record) rather than finding it
 * already disabled or gone: one from this station, or a receipt's answer.
 */
export function wroteToDps(retired: {
  outcome: string;
  detail?: Readonly<Record<string, unknown>>;
}): boolean {
  const how = retired.detail?.how;
  return (
    (retired.outcome === 'disabled' && how === DISABLED_IN_DPS) ||
    (retired.outcome === 'absent' && how === DELETED_IN_DPS)
  );
}

/**
 * Retires one superseded row in DPS: the per-row half of SupersededRetirement, shared with the
 * office machine that retires the rows an outbox bundle carries (station/bundle). Resolves with
 * the outcome, or `wait` when the row cannot settle now (a 412, a locked key, a row-level
 * refusal); throws a worker-level error (DPS out of reach, throttled, refused credentials).
 */
export async function retireSuperseded(
  row: OutboxRow,
  parts: RetireParts,
): Promise<Retired | Waiting> {
  let ours: PreparedEnrollment;
  try {
    ours = await prepareEnrollment(row, parts.openSecret);
  } catch (err) {
    if (!(err instanceof SyncError) || STATION_WAITS.has(err.code)) return waiting(err);
    // A row whose credential cannot be read cannot show that DPS's record is ours.
    return { outcome: 'not-ours', detail: { reason: `${err.code}: ${err.message}` } };
  }
  try {
    return await retireInDps(row.registrationId, ours, parts);
  } catch (err) {
    if (isWorkerLevel(err)) throw err;
    // Refused for this row alone (a 400, a 404 on the write): read again at a later pass.
    return waiting(err);
  }
}

/** Why a row could not settle now: the error's code and text (no key is ever in them). */
function waiting(err: unknown): Waiting {
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(err);
  return { wait: typeof code === 'string' ? `${code}: ${text}` : text };
}

async function retireInDps(
  id: string,
  ours: PreparedEnrollment,
  parts: RetireParts,
): Promise<Retired | Waiting> {
  const { dps } = parts;
  const ask = <T>(call: () => Promise<T>): Promise<T> =>
    noticingAnswer(call, () => parts.onAnswered?.());
  const record = await ask(() => dps.getEnrollment(id));
  if (record === undefined) {
    if (parts.mayYetBeCreated) {
      return { wait: 'carried in an outbox bundle whose receipt is not back: DPS may get it yet' };
    }
    return { outcome: 'absent', detail: {} };
  }
  let attestation = record.attestation;
  let theirs = fingerprintOf(attestation);
  if (theirs === undefined) {
    // DPS withholds symmetric keys on GET; the attestation mechanism read returns them.
    try {
      attestation = await ask(() => dps.getEnrollmentAttestation(id));
    } catch (err) {
      // Gone between the two reads, or the read refused: the next pass reads it again.
      if (err instanceof DpsError && err.code === 'DPS_NOT_FOUND') return waiting(err);
      throw err;
    }
    theirs = fingerprintOf(attestation);
  }
  if (theirs === undefined || !sameCredential(theirs, ours.fingerprint)) {
    return { outcome: 'not-ours', detail: { dpsAttestation: theirs?.kind ?? 'unreadable' } };
  }
  if (!parts.heldByGroup && record.provisioningStatus === 'disabled') {
    return { outcome: 'disabled', detail: { how: 'already disabled in DPS' } };
  }
  const etag = record.etag;
  if (!etag) {
    return { wait: `DPS gave no etag to ${parts.heldByGroup ? 'delete' : 'disable'} it by` };
  }
  if (parts.stillDue?.() === false) return { wait: 'its registration ID is in use again' };
  try {
    if (parts.heldByGroup) return await deleteOurs(dps, id, etag, ask);
    const full = carriesCredential(attestation) ? attestation : ours.enrollment.attestation;
    const written = await ask(() => dps.createOrUpdateEnrollment(disabledCopy(record, full), etag));
    return { outcome: 'disabled', detail: { how: DISABLED_IN_DPS, dpsEtag: written.etag } };
  } catch (err) {
    // Changed (or deleted) in DPS since our read: read it again at a later pass.
    if (err instanceof DpsError && err.code === 'DPS_PRECONDITION_FAILED') return waiting(err);
    throw err;
  }
}

/**
 * Deletes our own record (credentials compared, etag read by the caller) with If-Match: a group
 * member uses its registration ID now, and DPS would match the device to this individual
 * enrollment, enabled or disabled, before its group. Settled as `absent`, which DPS now is,
 * with how in the detail.
 */
async function deleteOurs(
  dps: DpsServiceApi,
  id: string,
  etag: string,
  ask: (call: () => Promise<void>) => Promise<void>,
): Promise<Retired> {
  try {
    await ask(() => dps.deleteEnrollment(id, etag));
  } catch (err) {
    // Gone meanwhile: what the deletion was for.
    if (err instanceof DpsError && err.code === 'DPS_NOT_FOUND') {
      return { outcome: 'absent', detail: { how: 'gone from DPS before the delete' } };
    }
    throw err;
  }
  return {
    outcome: 'absent',
    detail: { how: DELETED_IN_DPS, reason: 'an enrollment group member uses its registration ID' },
  };
}

/**
 * DPS's record as it stands (hubs, twin, policies someone may have set), disabled. Its
 * attestation is sent in full: the one DPS gave when it carries the credential, or else ours
 * (the same credential: compared above), since a PUT without it would make DPS generate keys.
 */
function disabledCopy(
  record: IndividualEnrollment,
  attestation: AttestationMechanism,
): IndividualEnrollment {
  // Read-only fields stay out of the write (DPS sets them).
  const { etag: _e, createdDateTimeUtc: _c, lastUpdatedDateTimeUtc: _u, ...kept } = record;
  const { registrationState: _r, ...writable } = kept;
  return { ...writable, attestation, provisioningStatus: 'disabled' };
}

/** Whether an attestation holds the credential itself, not only thumbprints of it. */
function carriesCredential(attestation: AttestationMechanism): boolean {
  if (attestation.type === 'x509') {
    return typeof attestation.x509?.clientCertificates?.primary?.certificate === 'string';
  }
  if (attestation.type === 'tpm') return typeof attestation.tpm?.endorsementKey === 'string';
  if (attestation.type === 'symmetricKey') {
    return typeof attestation.symmetricKey?.primaryKey === 'string';
  }
  return false;
}
