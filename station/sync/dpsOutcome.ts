import { DpsError, type DpsErrorCode } from '../../dps/dpsErrors.js';
import type { DpsErrorRecord } from './outboxSyncStore.js';
import { SyncError } from './syncErrors.js';

/** The station's credentials or setup are at fault, not one enrollment. */
const STATION_CODES: ReadonlySet<DpsErrorCode> = new Set([
  'DPS_UNAUTHORIZED',
  'DPS_FORBIDDEN',
  'DPS_CONNECTION_STRING_INVALID',
  'DPS_CONNECTION_STRING_IOT_HUB',
  'DPS_TLS_UNTRUSTED',
  'DPS_CLOCK_WRONG',
]);

/** Errors after which DPS may or may not have applied the request. */
const UNKNOWN_OUTCOME: ReadonlySet<DpsErrorCode> = new Set([
  'DPS_UNREACHABLE',
  'DPS_TIMEOUT',
  'DPS_SERVER_ERROR',
  'DPS_RESPONSE_INVALID',
]);

/**
 * Whether an error is about the whole worker (waiting, credentials, a cancelled call, a bug)
 * rather than about one enrollment. Such an error stops the batch; the rest are settled per row.
 */
export function isWorkerLevel(err: unknown): boolean {
  if (!(err instanceof DpsError)) return true;
  return err.retryable || STATION_CODES.has(err.code);
}

/**
 * Whether DPS may have applied a request that ended with `err`. A connection reset, a timeout or
 * a 5xx can come after DPS committed; an unexpected error is treated the same, to be safe. A
 * cancelled call (SyncError) was never sent, and a 4xx answer (429 included) applied nothing.
 */
export function outcomeUnknown(err: unknown): boolean {
  if (err instanceof SyncError) return false;
  if (err instanceof DpsError) return UNKNOWN_OUTCOME.has(err.code);
  return true;
}

/**
 * A worker-level error that may yet be about the one record asked for: DPS failing on it (a 5xx)
 * or answering it with something unreadable. A pass that keeps meeting it on the same record
 * must step past that record, or it would never reach the rows behind it.
 */
export function mayBeAboutTheRecord(err: unknown): err is DpsError {
  return (
    err instanceof DpsError &&
    (err.code === 'DPS_SERVER_ERROR' || err.code === 'DPS_RESPONSE_INVALID')
  );
}

/** What the row keeps of a DPS error (never a token: DpsError details hold none). */
export function dpsErrorRecord(err: DpsError): DpsErrorRecord {
  return {
    ...(err.status !== undefined && { status: err.status }),
    ...(err.dpsErrorCode !== undefined && { errorCode: err.dpsErrorCode }),
    message: err.detail ?? err.message,
    ...(err.trackingId !== undefined && { trackingId: err.trackingId }),
  };
}

/** One line for `last_error` and the log. */
export function describeDpsError(err: DpsError): string {
  return describe(err, err.detail);
}

/**
 * The same line without the request it names (`GET /enrollments/<another ID>: `), for the rows
 * of a batch a worker-level error stopped: that request was one row's, or the bulk call's, and
 * quoted on every row it named another enrollment. The worker's own error keeps it for the log.
 */
export function describeDpsErrorForBatch(err: DpsError): string {
  return describe(err, err.detail?.replace(REQUEST_PREFIX, ''));
}

/** How the HTTPS client starts a detail: method and path (encoded, so without spaces). */
const REQUEST_PREFIX = /^(?:GET|PUT|POST|DELETE|PATCH) \/\S*: /;

function describe(err: DpsError, detail: string | undefined): string {
  const parts: string[] = [err.code];
  if (err.status !== undefined) parts.push(`HTTP ${err.status}`);
  if (err.dpsErrorCode !== undefined) parts.push(`DPS ${err.dpsErrorCode}`);
  if (detail !== undefined && detail !== '') parts.push(detail);
  return parts.join(', ');
}

/**
 * The HTTP status a bulk item error stands for. DPS's codes are six digits that start with the
 * status (409201 is a 409, dps-protocol.md §1.9); a bare status is taken as it is.
 */
export function bulkItemStatus(errorCode: number): number {
  if (errorCode >= 100_000 && errorCode < 600_000) return Math.floor(errorCode / 1000);
  if (errorCode >= 100 && errorCode < 600) return errorCode;
  return 400;
}

/**
 * Runs a DPS call and tells `onAnswered` when DPS answered it, with a result or an HTTP error:
 * DPS is reachable then, whatever it said. A call that got no answer tells nothing.
 */
export async function noticingAnswer<T>(
  call: () => Promise<T>,
  onAnswered: () => void,
): Promise<T> {
  try {
    const result = await call();
    onAnswered();
    return result;
  } catch (err) {
    if (err instanceof DpsError && err.status !== undefined) onAnswered();
    throw err;
  }
}
