import { certErrorText } from '../../certs/certErrors.js';
import { dpsErrorText } from '../../dps/dpsErrors.js';
import { isWireErrorCode } from '../../firmware-bridge/codec/wireErrors.js';
import { storeErrorText } from '../store/storeError.js';
import { syncErrorText } from '../sync/syncErrors.js';

/**
 * The stable codes of the parts a run goes through, each from a table with its operator text:
 * the wire's (WIRE_, DEVICE_), the CA's (CSR_, CA_, EK_…), the store's, the sync's and DPS's.
 * The line's own (RUN_, LINE_) are in runErrors.ts. An error whose code is in none of them
 * (SQLite's SqliteError, Node's errno errors) did not write its message for a technician,
 * however much its code looks like one of ours.
 */
const tables: readonly object[] = [certErrorText, storeErrorText, syncErrorText, dpsErrorText];

/** Whether `code` is a stable code of the wire, the CA, the store, the sync or DPS. */
export function isPartErrorCode(code: string): boolean {
  return isWireErrorCode(code) || tables.some((table) => Object.hasOwn(table, code));
}
