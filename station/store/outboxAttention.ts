import type Database from 'better-sqlite3';

/** The enrollment that has waited longest to reach DPS. */
export interface OldestWaiting {
  registrationId: string;
  /** When the device passed (ISO 8601). */
  createdAt: string;
}

/** The latest sync problem the outbox records, on a row that still needs DPS or a person. */
export interface LatestSyncProblem {
  registrationId: string;
  status: 'pending' | 'failed' | 'conflict';
  /** The sync worker's SYNC_* code. */
  code: string;
  /** The recorded error text (scrubbed of secrets when it was written). */
  message: string | null;
  /** When it was recorded (ISO 8601). */
  at: string;
  /** When a pending row is tried again (ISO 8601); null: due now, or not retried. */
  nextAttemptAt: string | null;
}

/** What a supervisor asks of an outbox that does not drain: what waits, and why. */
export interface OutboxAttention {
  oldestWaiting?: OldestWaiting;
  latestProblem?: LatestSyncProblem;
}

/**
 * Reads what `station sync status` shows beside the counts. The sync worker keeps its last error
 * in memory, in the station process; another process (the CLI) learns it from the rows, where
 * the worker writes each failure's code and text. Rows that synced or were superseded have
 * nothing left to say, and a row being sent again keeps its old code under the time of that
 * claim, which would date the problem wrongly: only rows at rest are read.
 */
export function readOutboxAttention(db: Database.Database): OutboxAttention {
  const oldest = db
    .prepare(
      `SELECT registration_id AS registrationId, created_at AS createdAt FROM enrollments
       WHERE status IN ('pending', 'syncing') ORDER BY id LIMIT 1`,
    )
    .get() as OldestWaiting | undefined;
  const problem = db
    .prepare(
      `SELECT registration_id AS registrationId, status, last_error_code AS code,
              last_error AS message, updated_at AS at, next_attempt_at AS nextAttemptAt
       FROM enrollments
       WHERE status IN ('pending', 'failed', 'conflict') AND last_error_code IS NOT NULL
       ORDER BY updated_at DESC, id DESC LIMIT 1`,
    )
    .get() as LatestSyncProblem | undefined;
  return {
    ...(oldest && { oldestWaiting: oldest }),
    ...(problem && { latestProblem: problem }),
  };
}
