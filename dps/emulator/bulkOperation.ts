import { MAX_BULK_ITEMS } from '../service/serviceTypes.js';
import { type EnrollmentKind, objectOrFail } from './attestationValidation.js';
import type { EmulatorStore } from './emulatorStore.js';
import {
  deleteEnrollment,
  writeEnrollment,
  type WriteCondition,
  conditionFromIfMatch,
} from './enrollmentWrites.js';
import { idField, normalizeEnrollment } from './enrollmentValidation.js';
import { badRequest, DpsHttpError, ErrorCodes } from './errorBodies.js';

/**
 * `POST /enrollments` and `POST /enrollmentGroups` (dps-protocol.md §1.5): at most 10 items,
 * each applied on its own (a failed item does not undo the others), per-item errors in a 200.
 * Modes, compared case-insensitively:
 * - `create`: like PUT without If-Match (409 when the id exists);
 * - `update`: create or replace, whatever the etag;
 * - `updateIfMatchETag`: like PUT with If-Match = the item's etag (none: create or replace);
 * - `delete`: 404 when missing; the item's etag, if any, must match.
 */
type Mode = 'create' | 'update' | 'updateifmatchetag' | 'delete';
const MODES: readonly Mode[] = ['create', 'update', 'updateifmatchetag', 'delete'];

export interface BulkItemResult {
  registrationId?: string;
  enrollmentGroupId?: string;
  errorCode: number;
  errorStatus: string;
}

export function runBulkOperation(
  store: EmulatorStore,
  kind: EnrollmentKind,
  body: unknown,
  linkedHubs: readonly string[],
): { isSuccessful: boolean; errors: BulkItemResult[] } {
  const request = objectOrFail(body, 'The bulk operation');
  const mode = typeof request.mode === 'string' ? request.mode.toLowerCase() : '';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw badRequest(
      'mode must be create, update, updateIfMatchETag or delete.',
      ErrorCodes.bulkInvalid,
    );
  }
  const listName = kind === 'enrollment' ? 'enrollments' : 'enrollmentGroups';
  const items = request[listName];
  if (!Array.isArray(items) || items.length === 0) {
    throw badRequest(`${listName} must be a non-empty array.`, ErrorCodes.bulkInvalid);
  }
  if (items.length > MAX_BULK_ITEMS) {
    throw badRequest(
      `A bulk operation takes at most ${MAX_BULK_ITEMS} items; this one has ${items.length}.`,
      ErrorCodes.bulkInvalid,
    );
  }
  const errors: BulkItemResult[] = [];
  for (const item of items) {
    try {
      applyItem(store, kind, mode as Mode, item, linkedHubs);
    } catch (err) {
      const failure =
        err instanceof DpsHttpError
          ? err
          : new DpsHttpError(500, ErrorCodes.internalError, 'Internal error in the DPS emulator.');
      const id = itemId(kind, item);
      errors.push({
        [idField(kind)]: id,
        errorCode: failure.errorCode,
        errorStatus: failure.message,
      });
    }
  }
  return { isSuccessful: errors.length === 0, errors };
}

function applyItem(
  store: EmulatorStore,
  kind: EnrollmentKind,
  mode: Mode,
  item: unknown,
  linkedHubs: readonly string[],
): void {
  const etag = etagOf(item);
  if (mode === 'delete') {
    const id = itemId(kind, item);
    if (id === '') throw badRequest(`${idField(kind)} is missing.`);
    deleteEnrollment(store, kind, id, etag);
    return;
  }
  const record = normalizeEnrollment(kind, item, linkedHubs);
  const condition: WriteCondition =
    mode === 'create'
      ? { kind: 'createOnly' }
      : mode === 'update' || etag === undefined
        ? { kind: 'any' }
        : conditionFromIfMatch(etag);
  writeEnrollment(store, kind, record, condition);
}

function itemId(kind: EnrollmentKind, item: unknown): string {
  const value =
    typeof item === 'object' && item !== null
      ? (item as Record<string, unknown>)[idField(kind)]
      : undefined;
  return typeof value === 'string' ? value : '';
}

function etagOf(item: unknown): string | undefined {
  const value =
    typeof item === 'object' && item !== null ? (item as Record<string, unknown>).etag : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
