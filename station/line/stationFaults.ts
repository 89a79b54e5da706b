import type { CertErrorCode } from '../../certs/certErrors.js';
import type { StoreErrorCode } from '../store/storeError.js';
import type { RunErrorCode } from './runErrors.js';

/**
 * The store's refusals that concern the device's own records (another board holds its
 * registration ID or its TPM, its certificate or earlier PASS is not as expected, its result is
 * unsafe to record): reseating the board does not change them, so they count as the device's.
 */
const DEVICE_RECORD_REFUSALS: ReadonlySet<string> = new Set<StoreErrorCode>([
  'STORE_CERTIFICATE_STATE',
  'STORE_DUPLICATE_ENROLLMENT',
  'STORE_EK_ON_ANOTHER_DEVICE',
  'STORE_EARLIER_PASS_CHANGED',
  'STORE_RECORD_INVALID',
]);

/**
 * What the station lacks whatever board is on the port: a CA that may issue now, the group key
 * or the TPM vendor certificates a supervisor must add, and its own bugs (RUN_INTERNAL).
 */
const STATION_SIDE: ReadonlySet<string> = new Set<CertErrorCode | RunErrorCode>([
  'CA_LOCKED',
  'CA_EXPIRED',
  'CA_NOT_YET_VALID',
  'RUN_GROUP_KEY_UNAVAILABLE',
  'RUN_EK_TRUST_UNAVAILABLE',
  'RUN_INTERNAL',
]);

/**
 * Whether a run failed for the station's sake, not the device's: its store refused (disk full,
 * read-only, another program's lock), its CA may not issue, a key or trust it needs is missing,
 * or it hit a bug. The slot's streaks (FailureStreak, NoAnswerStreak) neither count such a
 * failure nor end on it: holding the board would tell the technician to set aside a good device
 * (or check its cable) while the code on screen says what the station must fix.
 */
export function isStationFault(code: string): boolean {
  if (code.startsWith('STORE_')) return !DEVICE_RECORD_REFUSALS.has(code);
  return STATION_SIDE.has(code);
}
