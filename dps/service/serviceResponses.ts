import { isRecord } from '../http/dpsResponse.js';
import type {
  AttestationMechanism,
  BulkItemError,
  DeviceRegistrationState,
  EnrollmentGroup,
  IndividualEnrollment,
} from './serviceTypes.js';

/**
 * Shape checks for what the service API answers. They check the fields the station relies on
 * (ids, types); everything else DPS sends is passed through untouched.
 */

export function isIndividualEnrollment(value: unknown): value is IndividualEnrollment {
  return isRecord(value) && typeof value['registrationId'] === 'string';
}

export function isEnrollmentGroup(value: unknown): value is EnrollmentGroup {
  return isRecord(value) && typeof value['enrollmentGroupId'] === 'string';
}

export function isRegistrationState(value: unknown): value is DeviceRegistrationState {
  return isRecord(value) && typeof value['registrationId'] === 'string';
}

export function isAttestationMechanism(value: unknown): value is AttestationMechanism {
  return isRecord(value) && typeof value['type'] === 'string';
}

/** A bulk item error as it arrives; `errorStatus` is DPS's text, not yet cleaned. */
export type BulkItemErrorBody = Omit<BulkItemError, 'errorStatus'> & { errorStatus?: unknown };

/** A bulk answer as it arrives: `errors` may be missing or null when every item succeeded. */
export interface BulkResultBody {
  isSuccessful: boolean;
  errors?: BulkItemErrorBody[] | null;
}

/**
 * The sync worker settles each item by its `errorCode`, so an item error without a whole-number
 * code is an unreadable answer, not a refusal of that item.
 */
export function isBulkResultBody(value: unknown): value is BulkResultBody {
  if (!isRecord(value) || typeof value['isSuccessful'] !== 'boolean') return false;
  const errors = value['errors'];
  return (
    errors === undefined ||
    errors === null ||
    (Array.isArray(errors) &&
      errors.every(
        (e) =>
          isRecord(e) &&
          typeof e['registrationId'] === 'string' &&
          Number.isSafeInteger(e['errorCode']),
      ))
  );
}

/** A guard for a JSON array whose every item passes `item`. */
export function arrayOf<T>(item: (value: unknown) => value is T) {
  return (value: unknown): value is T[] => Array.isArray(value) && value.every(item);
}
