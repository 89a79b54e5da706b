import { DpsError } from '../../dps/dpsErrors.js';
import type { CodedError } from '../line/lineTypes.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { BatchOutcome } from './batchSync.js';
import { describeDpsError, describeDpsErrorForBatch } from './dpsOutcome.js';
import type { OutboxRow } from './enrollmentRequest.js';
import type { Settlement } from './outboxSyncStore.js';
import { isSqliteError, storeCodeOf, StoreError } from '../store/storeError.js';
import { SyncError, syncErrorText, type SyncErrorCode } from './syncErrors.js';
import { untrustedDpsText } from './tlsRefusal.js';

/** What a worker-level failure means for the worker and for the rows it interrupted. */
export interface FailureVerdict {
  /** Pause or stop cancelled the batch: no hold, rows due again at once. */
  cancelled: boolean;
  /** How long no DPS call may start (ms). */
  holdMs: number;
  /** DPS could not be reached. */
  offline: boolean;
  /** The code the interrupted rows keep in `last_error_code`. */
  rowCode: SyncErrorCode;
  /** What the worker reports (`lastError`). */
  error: CodedError;
  /**
   * The detail the interrupted rows keep: the error's without the request it names, which was
   * one row's (or the bulk call's), so that no row's text names another enrollment.
   */
  rowDetail?: string;
}

/**
 * Judges the error that stopped a batch. The hold grows with consecutive failures (full jitter),
 * so a DPS that is down sees a probe now and then, not a stream; a longer Retry-After is honoured
 * as DPS sent it (see `dpsHold`).
 *
 * @param failures consecutive failed batches, this one included.
 */
export function judgeFailure(
  err: unknown,
  failures: number,
  backoff: BackoffPolicy,
  random: () => number,
): FailureVerdict {
  if (err instanceof SyncError && (err.code === 'SYNC_PAUSED' || err.code === 'SYNC_STOPPED')) {
    return { cancelled: true, holdMs: 0, offline: false, rowCode: err.code, error: err.toJSON() };
  }
  const delay = backoffDelay(failures, backoff, random);
  if (isStoreFailure(err)) {
    // The store's code says which hand it needs (disk full, read-only, damaged); the detail
    // keeps it for the log beside SQLite's text. A lock another program holds needs no hand on
    // the disk: it passes by itself, and has its own code so that no one is sent to the disk.
    const storeCode = storeCodeOf(err, 'STORE_READ_FAILED');
    const why = err instanceof StoreError ? (err.detail ?? err.message) : (err as Error).message;
    const code = storeCode === 'STORE_BUSY' ? 'SYNC_STORE_BUSY' : 'SYNC_STORE_FAILED';
    return verdict(code, delay, false, { code, detail: `${storeCode}: ${why}` });
  }
  if (!(err instanceof DpsError)) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return verdict('SYNC_INTERNAL', delay, false, { code: 'SYNC_INTERNAL', detail });
  }
  const error = {
    code: err.code,
    message: err.message,
    detail: describeDpsError(err),
    rowDetail: describeDpsErrorForBatch(err),
  };
  switch (err.code) {
    case 'DPS_THROTTLED':
      return verdict('SYNC_DPS_RETRY', dpsHold(err, delay), false, error);
    case 'DPS_UNREACHABLE':
    case 'DPS_TIMEOUT':
      return verdict('SYNC_OFFLINE', delay, true, error);
    case 'DPS_HOST_NOT_FOUND':
      // Offline as well (nothing reaches DPS), but a supervisor checks a host name, not cables.
      return verdict('SYNC_DPS_HOST_UNKNOWN', delay, true, error);
    case 'DPS_CONNECTION_REFUSED':
      // Offline too, and retried the same way (an emulator being restarted comes back), but a
      // supervisor checks the port, a firewall or the emulator, not the network.
      return verdict('SYNC_DPS_CONNECTION_REFUSED', delay, true, error);
    case 'DPS_UNAUTHORIZED':
    case 'DPS_FORBIDDEN':
    case 'DPS_CONNECTION_STRING_INVALID':
    case 'DPS_CONNECTION_STRING_IOT_HUB':
      return verdict('SYNC_CREDENTIALS_REFUSED', delay, false, error);
    case 'DPS_TLS_UNTRUSTED':
      // DpsError's text cannot say which check failed; the client told it in `tls`, and each
      // needs another fix (a CA to trust, the host name, the clock).
      return verdict('SYNC_DPS_UNTRUSTED', delay, false, {
        ...error,
        message: untrustedDpsText(err.tls?.kind),
      });
    case 'DPS_CLOCK_WRONG':
      return verdict('SYNC_CLOCK_WRONG', delay, false, error);
    default:
      return verdict('SYNC_DPS_RETRY', dpsHold(err, delay), false, error);
  }
}

/**
 * DPS's Retry-After may lengthen the station's backoff, never shorten it: a DPS or proxy that
 * answers 429/503 with `Retry-After: 0` (or a date already past by the station's clock) would
 * otherwise get a call per round trip for as long as it keeps refusing.
 */
function dpsHold(err: DpsError, backoffMs: number): number {
  return Math.max(err.retryAfterMs ?? 0, backoffMs);
}

/** Verdicts no waiting cures: the DPS connection, its trust or the station clock must be fixed. */
const PERSON_NEEDED: ReadonlySet<SyncErrorCode> = new Set([
  'SYNC_CREDENTIALS_REFUSED',
  'SYNC_DPS_UNTRUSTED',
  'SYNC_CLOCK_WRONG',
]);

export function needsAPerson(verdict: FailureVerdict): boolean {
  return !verdict.cancelled && PERSON_NEEDED.has(verdict.rowCode);
}

/** What the database refused: better-sqlite3's SqliteError (SQLITE_*) or the store's error. */
function isStoreFailure(err: unknown): boolean {
  return err instanceof StoreError || isSqliteError(err);
}

/**
 * A refusal of the database that lasts until someone acts (frees disk space, fixes the folder,
 * restores a backup), as opposed to a lock another process releases by itself.
 */
export function isLastingStoreFailure(err: unknown): boolean {
  return isStoreFailure(err) && storeCodeOf(err, 'STORE_READ_FAILED') !== 'STORE_BUSY';
}

function verdict(
  rowCode: SyncErrorCode,
  holdMs: number,
  offline: boolean,
  error: { code: string; message?: string; detail: string; rowDetail?: string },
): FailureVerdict {
  return {
    cancelled: false,
    holdMs: Math.max(0, holdMs),
    offline,
    rowCode,
    error: {
      code: error.code,
      message: error.message ?? syncErrorText[rowCode],
      detail: error.detail,
    },
    ...(error.rowDetail !== undefined && { rowDetail: error.rowDetail }),
  };
}

/**
 * The rows a batch could not finish go back to `pending`, never lost, keeping whether DPS may
 * hold them. They wait out the worker's hold (its backoff, an offline probe's, or Retry-After):
 * their retry time is the worker's next try, which another process (`sync status`) reads from
 * them. A "sync now" cuts the station's own waits (retryWaits.ts), SYNC_OFFLINE's among them.
 * A cancelled batch (pause, stop) leaves them due at once. Their text is the batch's: the error
 * stopped the batch, whichever row's request met it.
 */
export function unfinishedSettlements(
  unfinished: BatchOutcome['unfinished'],
  verdict: FailureVerdict | undefined,
  now: number,
): [OutboxRow, Settlement][] {
  const at = !verdict || verdict.cancelled ? now : now + verdict.holdMs;
  const cause = verdict?.rowDetail ?? verdict?.error.detail;
  const detail =
    cause === undefined
      ? 'the batch ended early'
      : `its batch stopped before DPS settled it: ${cause}`;
  return unfinished.map(({ row, reconcile }) => [
    row,
    { kind: 'retry', code: verdict?.rowCode ?? 'SYNC_INTERNAL', detail, at, reconcile },
  ]);
}
