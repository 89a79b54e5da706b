import type { Migration } from './index.js';

/**
 * What the outbox sync worker (station/sync/) keeps per enrollment.
 *
 * - `next_attempt_at` (ISO 8601, NULL = due now): a pending row waits until then after a
 *   retryable failure (Retry-After, or backoff with jitter).
 * - `needs_reconcile`: DPS may hold this enrollment already although the station never heard so
 *   (a send whose answer was lost, a crash between send and mark, a 409 not yet read). The worker
 *   reads DPS before it sends such a row again, so a create is never applied twice in effect.
 * - `synced_at`: when DPS confirmed it (or when the station decided no call was needed).
 * - `last_error_code`: the station's SYNC_* code beside `last_error` (the detail).
 * - `dps_error`: DPS's own error of a failed row (status, six-digit code, text), as JSON.
 * - `dps_record`: on conflict, DPS's record (secrets removed) for the supervisor to compare with
 *   `body`.
 * - `sync_note`: why a row ended as it did when no DPS call was made (a group member).
 *
 * `etag` (migration 002) keeps DPS's etag when the station learnt one.
 */
export const migration003Sync: Migration = {
  version: 3,
  name: 'sync',
  up(db) {
    db.exec(`
      ALTER TABLE enrollments ADD COLUMN next_attempt_at TEXT;
      ALTER TABLE enrollments ADD COLUMN needs_reconcile INTEGER NOT NULL DEFAULT 0
        CHECK (needs_reconcile IN (0, 1));
      ALTER TABLE enrollments ADD COLUMN synced_at TEXT;
      ALTER TABLE enrollments ADD COLUMN last_error_code TEXT;
      ALTER TABLE enrollments ADD COLUMN dps_error TEXT
        CHECK (dps_error IS NULL OR json_valid(dps_error));
      ALTER TABLE enrollments ADD COLUMN dps_record TEXT
        CHECK (dps_record IS NULL OR json_valid(dps_record));
      ALTER TABLE enrollments ADD COLUMN sync_note TEXT;

      -- Rows synced before this migration have no better date than their last change.
      UPDATE enrollments SET synced_at = updated_at WHERE status = 'synced';
      -- A row left syncing has an unknown fate in DPS; the worker reads DPS before resending it.
      UPDATE enrollments SET needs_reconcile = 1 WHERE status = 'syncing';

      -- The worker asks "which pending rows are due, oldest first" on every round.
      CREATE INDEX enrollments_pending_due ON enrollments (next_attempt_at, id)
        WHERE status = 'pending';
    `);
  },
};
