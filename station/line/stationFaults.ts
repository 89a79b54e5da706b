import type { CertErrorCode } from '../../certs/certErrors.js';
import type { StoreErrorCode } from '../store/storeError.js';
import type { RunErrorCode } from './runErrors.js';

/**
 * The store's refusals that count as the board's: another board holds its registration ID or
 * its TPM, its earlier PASS changed; and a record the store finds incomplete or in the wrong
 * state, which is the station's bug (passedRunChecks.ts) but one this board's data set off and
 * will set off again. Reseating the board changes none of them, and the hold is what stops auto
 * mode running it round and round.
 */
const BOARD_RECORD_REFUSALS: ReadonlySet<string> = new Set<StoreErrorCode>([
  'STORE_CERTIFICATE_STATE',
  'STORE_DUPLICATE_ENROLLMENT',
  'STORE_EK_ON_ANOTHER_DEVICE',
  'STORE_EARLIER_PASS_CHANGED',
  'STORE_RECORD_INVALID',
]);

/**
 * What the station lacks whatever board is on the port: a CA that may issue now (and one that
 * did not repeat a serial), the group key or the TPM vendor certificates a supervisor must add.
 * Its other bugs (RUN_INTERNAL) count as the board's, for the reason above; so does a board
 * whose registration ID or TPM another slot's run holds (runClaims.ts), as the store's refusal of
 * it at commit did: its firmware or its TPM gives it that identity, and reseating changes nothing.
 */
const STATION_SIDE: ReadonlySet<string> = new Set<CertErrorCode | RunErrorCode>([
  'CA_LOCKED',
  'CA_EXPIRED',
  'CA_NOT_YET_VALID',
  'CA_SERIAL_REUSED',
  'RUN_GROUP_KEY_UNAVAILABLE',
  'RUN_EK_TRUST_UNAVAILABLE',
]);

/**
 * Whether a run failed for the station's sake, not the device's: its store refused (disk full,
 * read-only, another program's lock), its CA may not issue, its key custody (the OS key store
 * sealing a device secret) is unavailable, or a key or trust it needs is missing. The slot's
 * streaks (FailureStreak, NoAnswerStreak) neither count such a failure nor end on it: holding the
 * board would tell the technician to set aside a good device (or check its cable) while the code
 * on screen says what the station must fix.
 */
export function isStationFault(code: string): boolean {
  if (code.startsWith('STORE_')) return !BOARD_RECORD_REFUSALS.has(code);
  return code.startsWith('CUSTODY_') || STATION_SIDE.has(code);
}
