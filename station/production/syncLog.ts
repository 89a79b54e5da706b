/**
 * The line's log of DPS sync: what a supervisor watching `station serve` must notice, and why.
 * Every batch goes idle -> syncing -> idle, so only other transitions are logged; one into
 * offline or backoff carries the error, since "offline" alone sent supervisors chasing the
 * network when the cause was a certificate the station does not trust.
 */
import type { CodedError } from '../line/lineTypes.js';
import type { SyncStateChange } from '../sync/syncTypes.js';
import { DPS_CA_ENV } from './dpsConnection.js';

const ROUTINE = new Set(['idle', 'syncing']);

/** Node's codes for a server certificate that does not chain to a trusted root. */
const UNTRUSTED_CERTIFICATE =
  /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT/;

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
  const hint = UNTRUSTED_CERTIFICATE.test(detail)
    ? ` The DPS server's certificate is not trusted: for a DPS that is not Azure's (station emulator), start the station with ${DPS_CA_ENV} naming its CA file.`
    : '';
  return `${line}: ${lastError.message} [${lastError.code}]${hint}${detail ? `\n  detail: ${detail}` : ''}`;
}
