/**
 * The line's log of DPS sync: what a supervisor watching `station serve` must notice, and why.
 * Every batch goes idle -> syncing -> idle, so only other transitions are logged; one into
 * offline or backoff carries the error, and a DPS certificate the station does not trust names
 * the variable that gives it a CA to trust (the emulator's is its own).
 */
import type { CodedError } from '../line/lineTypes.js';
import type { SyncStateChange } from '../sync/syncTypes.js';
import { DPS_CA_ENV } from './dpsConnection.js';

const ROUTINE = new Set(['idle', 'syncing']);

/** The log line for a sync state change, or undefined for a routine one. */
export function syncLogLine(
  change: Pick<SyncStateChange, 'state' | 'previous'>,
  lastError: CodedError | undefined,
): string | undefined {
  const { state, previous } = change;
  // The worker starting is already announced by "DPS sync: on".
  if (previous === 'stopped' && ROUTINE.has(state)) return undefined;
  if (ROUTINE.has(state) && ROUTINE.has(previous)) return undefined;
  const line = `DPS sync: ${previous} -> ${state}`;
  if ((state !== 'offline' && state !== 'backoff') || lastError === undefined) return line;
  const detail = lastError.detail ?? '';
  const hint =
    lastError.code === 'DPS_TLS_UNTRUSTED'
      ? ` The DPS server's certificate is not trusted: for a DPS that is not Azure's (station emulator), start the station with ${DPS_CA_ENV} naming its CA file.`
      : '';
  return `${line}: ${lastError.message} [${lastError.code}]${hint}${detail ? `\n  detail: ${detail}` : ''}`;
}
