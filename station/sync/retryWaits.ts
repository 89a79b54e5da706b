/**
 * Whose wait a pending row's retry time is. A row that failed for a cause on the station's side
 * (DPS's certificate not trusted, the credentials or the clock refused, sealed keys or a group
 * key that cannot be opened, the database, a defect) waits out the station's own backoff:
 * nothing asked for it but the station, and the cause may just have been fixed, so a
 * supervisor's "sync now" sends such rows at once.
 * A row DPS throttled or failed (SYNC_DPS_RETRY: Retry-After, a 429 or 5xx per item, a record
 * changed meanwhile) waits for DPS, and "sync now" honours that; so does every code not listed.
 */
import type Database from 'better-sqlite3';
import type { SyncErrorCode } from './syncErrors.js';

export const STATION_OWN_WAITS: readonly SyncErrorCode[] = Object.freeze([
  'SYNC_DPS_UNTRUSTED',
  'SYNC_CREDENTIALS_REFUSED',
  'SYNC_CLOCK_WRONG',
  'SYNC_SECRET_LOCKED',
  'SYNC_GROUP_KEY_UNAVAILABLE',
  'SYNC_STORE_FAILED',
  'SYNC_STORE_BUSY',
  'SYNC_INTERNAL',
  'SYNC_OFFLINE',
  'SYNC_DPS_HOST_UNKNOWN',
  'SYNC_DPS_CONNECTION_REFUSED',
  'SYNC_PAUSED',
  'SYNC_STOPPED',
]);

/** Whether a row (or the worker) waiting after `code` waits out the station's own delay. */
export function isStationOwnWait(code: string): boolean {
  return (STATION_OWN_WAITS as readonly string[]).includes(code);
}

/** The SQL condition on `last_error_code` of a row waiting out the station's own retry delay. */
export const STATION_OWN_WAIT_SQL = `last_error_code IN (${STATION_OWN_WAITS.map((c) => `'${c}'`).join(', ')})`;

/** Pending rows whose retry time has not come, of one kind of wait. */
export interface WaitingRows {
  count: number;
  /** Their codes (`last_error_code`), most rows first. */
  codes: string[];
  /** When the first of them falls due, and the last (ISO 8601). */
  first: string;
  last: string;
}

/** The pending rows a "sync now" would not find due: the station's own waits and DPS's. */
export interface RetryWaits {
  stationOwn?: WaitingRows;
  dps?: WaitingRows;
}

/** Reads the pending rows whose retry time is after `now` (ms), by whose wait it is. */
export function readRetryWaits(db: Database.Database, now: number): RetryWaits {
  const groups = db
    .prepare(
      `SELECT last_error_code AS code, coalesce(${STATION_OWN_WAIT_SQL}, 0) AS own, count(*) AS n,
         min(next_attempt_at) AS first, max(next_attempt_at) AS last
       FROM enrollments INDEXED BY enrollments_pending_due
       WHERE status = 'pending' AND next_attempt_at > ?
       GROUP BY last_error_code ORDER BY n DESC, code`,
    )
    .all(new Date(now).toISOString()) as {
    code: string | null;
    own: 0 | 1;
    n: number;
    first: string;
    last: string;
  }[];
  const waits: RetryWaits = {};
  for (const group of groups) {
    const key = group.own === 1 ? 'stationOwn' : 'dps';
    const rows = (waits[key] ??= { count: 0, codes: [], first: group.first, last: group.last });
    rows.count += group.n;
    rows.codes.push(group.code ?? 'no code');
    if (group.first < rows.first) rows.first = group.first;
    if (group.last > rows.last) rows.last = group.last;
  }
  return waits;
}
