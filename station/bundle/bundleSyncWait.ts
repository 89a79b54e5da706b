import type Database from 'better-sqlite3';
import { isStationOwnWait, STATION_OWN_WAIT_SQL } from '../sync/retryWaits.js';

/**
 * The waits of `bundle sync` (bundleSync.ts) for rows DPS asked to retry: the operator carries
 * the receipt across an air gap, so a row DPS refused for the moment (429, 5xx per item) is
 * worth a short wait here rather than a walk back with a partial receipt.
 */

/** Default for `retryWithinMs`: how long a sync may wait for retries, from its start. */
export const DEFAULT_RETRY_WITHIN_MS = 10 * 60_000;

/** Past the retry time, so the row is due when "sync now" looks (and clocks round the same). */
export const RETRY_MARGIN_MS = 50;

/**
 * At most this many waits per sync: each round sends at least one call, so this only stops a
 * DPS that keeps asking for retries a few milliseconds away from looping until the deadline.
 */
export const MAX_RETRY_ROUNDS = 1_000;

/** The deadline `retryWithinMs` after `startedAt`; throws RangeError for an unbounded wait. */
export function retryDeadline(startedAt: number, retryWithinMs = DEFAULT_RETRY_WITHIN_MS): number {
  if (!Number.isFinite(retryWithinMs) || retryWithinMs < 0) {
    throw new RangeError('retryWithinMs must be a finite number of milliseconds, 0 or more');
  }
  return startedAt + retryWithinMs;
}

/** A pending row's retry time: the earliest of the work store, and whose wait it is. */
export interface RetryWait {
  until: Date;
  /** Why it waits: the row's `last_error_code`, or for a hold on every call the last error's. */
  code: string | undefined;
  /** A wait DPS asked for (throttled, failed for the moment), not the station's own delay. */
  byDps: boolean;
}

/**
 * Rows no wait here helps: the bundle carries no fingerprint of their group's key, and it will
 * not carry one later; or a member waits on a deletion under its ID, which this run tried
 * before the members and does not try again. They go back pending in the receipt at once,
 * their code saying why.
 */
const WAIT_HELPS = `coalesce(last_error_code, '') NOT IN ('SYNC_GROUP_KEY_UNAVAILABLE',
  'SYNC_INDIVIDUAL_ENROLLMENT_FIRST')`;

/**
 * When the earliest pending row of the work store may be sent again, if a pending row waits for
 * a retry time (due ones included) that a wait may help. Named index: as outboxSyncStore.ts's nextDue query, the
 * partial index answers with one seek instead of a scan of every pending row.
 */
export function nextRetry(db: Database.Database): RetryWait | undefined {
  const row = db
    .prepare(
      `SELECT next_attempt_at AS at, last_error_code AS code
      FROM enrollments INDEXED BY enrollments_pending_due
      WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND ${WAIT_HELPS}
      ORDER BY next_attempt_at LIMIT 1`,
    )
    .get() as { at: string; code: string | null } | undefined;
  if (row === undefined) return undefined;
  return {
    until: new Date(row.at),
    code: row.code ?? undefined,
    byDps: row.code === null || !isStationOwnWait(row.code),
  };
}

/**
 * When the earliest pending row DPS asked to retry may be sent again (ms since the epoch): what
 * the operator waits for before syncing the bundle again. Rows waiting out the station's own
 * delay (offline, credentials, clock) are not counted: their cause is named instead.
 */
export function nextDpsRetryAt(db: Database.Database): number | undefined {
  const at = db
    .prepare(
      `SELECT min(next_attempt_at) FROM enrollments INDEXED BY enrollments_pending_due
      WHERE status = 'pending' AND next_attempt_at IS NOT NULL
        AND NOT coalesce(${STATION_OWN_WAIT_SQL}, 0)`,
    )
    .pluck()
    .get() as string | null;
  return at === null ? undefined : Date.parse(at);
}

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts (at once if it already has).
 * The timer is cleared either way, so an aborted wait keeps no process alive.
 */
export function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `work`'s value, or undefined as soon as `signal` aborts. `work` goes on; its rejection after
 * an abort is handled here (the caller stops the worker, which rejects its "sync now").
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
