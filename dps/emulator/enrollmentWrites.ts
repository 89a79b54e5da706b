import { randomUUID } from 'node:crypto';
import type { EnrollmentKind } from './attestationValidation.js';
import type { EmulatorStore, RecordTable } from './emulatorStore.js';
import { type EnrollmentRecord, idField } from './enrollmentValidation.js';
import { DpsHttpError, ErrorCodes } from './errorBodies.js';

/**
 * Writes and deletes under the ETag rules of dps-protocol.md §1.8, shared by the PUT/DELETE
 * routes and the bulk operation:
 * - no If-Match: create a missing record, 409 for an existing one;
 * - If-Match `*`: create or update;
 * - If-Match an etag (quoted or not): update when equal, else 412 (also when the record is gone).
 */
export type WriteCondition =
  { kind: 'createOnly' } | { kind: 'any' } | { kind: 'ifMatch'; etag: string };

export const TABLE: Record<EnrollmentKind, RecordTable> = {
  enrollment: 'enrollments',
  group: 'enrollment_groups',
};

export const NOT_FOUND_CODE: Record<EnrollmentKind, number> = {
  enrollment: ErrorCodes.enrollmentNotFound,
  group: ErrorCodes.enrollmentGroupNotFound,
};

const NOUN: Record<EnrollmentKind, string> = {
  enrollment: 'individual enrollment',
  group: 'enrollment group',
};

/** An opaque etag, shaped like DPS's: base64 of a quoted, Cosmos-style version string. */
export function newEtag(): string {
  return Buffer.from(`"${randomUUID()}"`, 'utf8').toString('base64');
}

/** The condition an `If-Match` header (or a bulk item's etag) states. */
export function conditionFromIfMatch(ifMatch: string | undefined): WriteCondition {
  if (ifMatch === undefined || ifMatch.trim() === '') return { kind: 'createOnly' };
  const etag = unquote(ifMatch.trim());
  return etag === '*' ? { kind: 'any' } : { kind: 'ifMatch', etag };
}

/** Throws 412 unless `condition` allows replacing a record whose etag is `current`. */
export function checkEtag(condition: WriteCondition, current: string | undefined): void {
  if (condition.kind !== 'ifMatch') return;
  if (current === undefined || unquote(current) !== condition.etag) {
    throw new DpsHttpError(
      412,
      ErrorCodes.preconditionFailed,
      'Precondition failed: the etag does not match the current record.',
    );
  }
}

/**
 * Stores a validated record under `condition`; returns it as stored (etag and timestamps set)
 * and whether it was created. Counts an individual enrollment's creation.
 */
export function writeEnrollment(
  store: EmulatorStore,
  kind: EnrollmentKind,
  record: EnrollmentRecord,
  condition: WriteCondition,
): { record: EnrollmentRecord; created: boolean } {
  const id = (record as unknown as Record<string, string>)[idField(kind)]!;
  return store.transaction(() => {
    const existing = store.get<EnrollmentRecord>(TABLE[kind], id);
    if (existing !== undefined && condition.kind === 'createOnly') {
      throw new DpsHttpError(
        409,
        ErrorCodes.conflict,
        `Conflict: an ${NOUN[kind]} with this id already exists; send If-Match to update it.`,
      );
    }
    checkEtag(condition, existing?.etag);
    const now = new Date().toISOString();
    const etag = newEtag();
    const stored = {
      ...record,
      etag,
      createdDateTimeUtc: existing?.record.createdDateTimeUtc ?? now,
      lastUpdatedDateTimeUtc: now,
    } as EnrollmentRecord;
    store.put(TABLE[kind], id, etag, stored);
    if (existing === undefined && kind === 'enrollment') store.recordCreate(id);
    return { record: stored, created: existing === undefined };
  });
}

/** Deletes a record: 404 when missing, 412 when If-Match names another version. */
export function deleteRecord(
  store: EmulatorStore,
  table: RecordTable,
  id: string,
  ifMatch: string | undefined,
  notFound: { code: number; noun: string },
): void {
  store.transaction(() => {
    const existing = store.get(table, id);
    if (existing === undefined) {
      throw new DpsHttpError(404, notFound.code, `Not found: no ${notFound.noun} with this id.`);
    }
    const condition = conditionFromIfMatch(ifMatch);
    checkEtag(condition, existing.etag);
    store.delete(table, id);
  });
}

/** deleteRecord for an individual enrollment or group. */
export function deleteEnrollment(
  store: EmulatorStore,
  kind: EnrollmentKind,
  id: string,
  ifMatch: string | undefined,
): void {
  deleteRecord(store, TABLE[kind], id, ifMatch, { code: NOT_FOUND_CODE[kind], noun: NOUN[kind] });
}

/** The stored record, or a 404 in DPS's words. */
export function getEnrollmentOrFail(
  store: EmulatorStore,
  kind: EnrollmentKind,
  id: string,
): EnrollmentRecord {
  const row = store.get<EnrollmentRecord>(TABLE[kind], id);
  if (row === undefined) {
    throw new DpsHttpError(404, NOT_FOUND_CODE[kind], `Not found: no ${NOUN[kind]} with this id.`);
  }
  return row.record;
}

function unquote(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}
