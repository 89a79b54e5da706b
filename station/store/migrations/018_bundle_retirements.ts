import type { Migration } from './index.js';

/**
 * A bundle may carry retirements alone (superseded enrollments to disable in DPS, migration 017)
 * when no enrollment is pending: a reworked batch larger than one bundle's share of retirements,
 * or one whose new enrollments travelled without them, would otherwise leave its old
 * enrollments enabled in DPS until the line's next device. `bundles.enrollments` may now be 0,
 * and `bundles.retirements` records how many the bundle carried (0 for bundles of earlier
 * versions, which did not record it); together they carry at least one row.
 *
 * SQLite cannot change a CHECK in place, so both bundle tables are copied into new ones and
 * renamed: `bundle_enrollments` too, because dropping `bundles` with foreign keys on would
 * delete its rows through their ON DELETE CASCADE. Rowids are kept, as `bundle list` orders
 * bundles of the same second by them.
 */
export const migration018BundleRetirements: Migration = {
  version: 18,
  name: 'bundle_retirements',
  up(db) {
    db.exec(`
      CREATE TABLE bundles_018 (
        id           TEXT PRIMARY KEY,
        created_at   TEXT NOT NULL,
        file         TEXT NOT NULL,
        enrollments  INTEGER NOT NULL CHECK (enrollments >= 0),
        retirements  INTEGER NOT NULL DEFAULT 0 CHECK (retirements >= 0),
        written_at   TEXT,
        received_at  TEXT,
        receipt      TEXT CHECK (receipt IS NULL OR json_valid(receipt)),
        CHECK (enrollments + retirements > 0),
        CHECK ((received_at IS NULL) = (receipt IS NULL))
      ) STRICT;
      INSERT INTO bundles_018 (rowid, id, created_at, file, enrollments, written_at, received_at,
          receipt)
        SELECT rowid, id, created_at, file, enrollments, written_at, received_at, receipt
        FROM bundles;

      CREATE TABLE bundle_enrollments_018 (
        bundle_id      TEXT NOT NULL REFERENCES bundles_018 (id) ON DELETE CASCADE,
        enrollment_id  INTEGER NOT NULL REFERENCES enrollments (id),
        body_sha256    TEXT NOT NULL CHECK (length(body_sha256) = 64),
        sends_received INTEGER NOT NULL DEFAULT 0 CHECK (sends_received >= 0),
        answer_applied TEXT CHECK (answer_applied IN ('synced', 'failed', 'conflict', 'requeued')),
        PRIMARY KEY (bundle_id, enrollment_id)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO bundle_enrollments_018
        SELECT bundle_id, enrollment_id, body_sha256, sends_received, answer_applied
        FROM bundle_enrollments;

      DROP TABLE bundle_enrollments;
      DROP TABLE bundles;
      -- Renaming the parent rewrites the child's REFERENCES to the new name.
      ALTER TABLE bundles_018 RENAME TO bundles;
      ALTER TABLE bundle_enrollments_018 RENAME TO bundle_enrollments;
      CREATE INDEX bundle_enrollments_by_enrollment ON bundle_enrollments (enrollment_id);
    `);
  },
};
