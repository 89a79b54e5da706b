import type { Migration } from './index.js';

/**
 * Outbox bundles this station exported (station/bundle/): an air-gapped line carries its pending
 * enrollments to a machine that reaches DPS, and brings back a receipt.
 *
 * - `bundles`: one row per bundle exported; `written_at` once its file was written and read
 *   back; `receipt` holds the counts of the newest receipt applied (JSON), `received_at` when.
 * - `bundle_enrollments`: which outbox rows went in which bundle, with the SHA-256 of the body
 *   that went, how many DPS sends the receipts reported for it, and the final answer a receipt
 *   gave for it (or a supervisor's requeue). A receipt is applied only to rows of its own bundle whose body is still the one
 *   carried. A superseded row that went in a bundle may be in DPS, so the sync worker treats it
 *   as sent when it reconciles a re-provisioned device.
 */
export const migration011Bundles: Migration = {
  version: 11,
  name: 'bundles',
  up(db) {
    db.exec(`
      CREATE TABLE bundles (
        id           TEXT PRIMARY KEY,
        created_at   TEXT NOT NULL,
        file         TEXT NOT NULL,
        enrollments  INTEGER NOT NULL CHECK (enrollments > 0),
        -- Set once the file was written and read back: a bundle recorded but never written
        -- (a crash, a failed stick) carries nothing, and its rows may go in the next one.
        written_at   TEXT,
        received_at  TEXT,
        receipt      TEXT CHECK (receipt IS NULL OR json_valid(receipt)),
        CHECK ((received_at IS NULL) = (receipt IS NULL))
      ) STRICT;

      CREATE TABLE bundle_enrollments (
        bundle_id      TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
        enrollment_id  INTEGER NOT NULL REFERENCES enrollments (id),
        body_sha256    TEXT NOT NULL CHECK (length(body_sha256) = 64),
        -- DPS sends for it that receipts reported so far (each receipt holds the running total).
        sends_received INTEGER NOT NULL DEFAULT 0 CHECK (sends_received >= 0),
        -- The final answer (synced, failed, conflict) a receipt of this bundle gave for the row,
        -- or 'requeued' when a supervisor sent the row again: answered once, so no receipt of
        -- this bundle, however late, undoes a requeue.
        answer_applied TEXT CHECK (answer_applied IN ('synced', 'failed', 'conflict', 'requeued')),
        PRIMARY KEY (bundle_id, enrollment_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX bundle_enrollments_by_enrollment ON bundle_enrollments (enrollment_id);
    `);
  },
};
