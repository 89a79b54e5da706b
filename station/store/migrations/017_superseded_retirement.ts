import type { Migration } from './index.js';

/**
 * Retirement of superseded enrollments DPS may still hold under an earlier registration ID.
 *
 * A re-provisioned device whose registration ID stayed the same has its earlier enrollment
 * replaced in DPS when the new one syncs (station/sync/dpsReconciler.ts). When the ID changed
 * (the profile's template was edited), nothing replaced it: DPS kept the earlier enrollment,
 * enabled, with credentials the device no longer holds. The sync worker now disables it
 * (station/sync/supersededRetirement.ts), and the outbox keeps how that ended:
 * - `retirement`: NULL, nothing to do; `due`, to be retired; `disabled`, DPS holds it disabled;
 *   `absent`, DPS does not hold it; `not-ours`, DPS holds other credentials under that ID (the
 *   station never touches those). Only a superseded row is ever retired.
 * - `retired_at`: when it settled (NULL while NULL or `due`).
 *
 * Rows already superseded become `due`, once, here, by the same rule the commit applies from
 * now on: the successor (`superseded_by`, set in the superseding commit) has another
 * registration ID, ignoring case as DPS does, and DPS may hold the row (sent at least once, or
 * carried in an outbox bundle, as `earlierMaybeInDps` of station/sync/outboxSyncStore.ts says).
 * A superseded row without a successor link cannot be judged and is left alone.
 */
export const migration017SupersededRetirement: Migration = {
  version: 17,
  name: 'superseded_retirement',
  up(db) {
    db.exec(`
      ALTER TABLE enrollments ADD COLUMN retirement TEXT
        CHECK (retirement IS NULL OR (status = 'superseded'
          AND retirement IN ('due', 'disabled', 'absent', 'not-ours')));
      ALTER TABLE enrollments ADD COLUMN retired_at TEXT
        CHECK ((retired_at IS NULL) = (retirement IS NULL OR retirement = 'due'));
      -- The worker looks for due rows at every pass: a seek, not a walk through history.
      CREATE INDEX enrollments_retirement_due ON enrollments (id) WHERE retirement = 'due';

      UPDATE enrollments SET retirement = 'due'
      WHERE status = 'superseded' AND retirement IS NULL AND superseded_by IS NOT NULL
        AND (attempts > 0 OR id IN (SELECT enrollment_id FROM bundle_enrollments))
        AND registration_id != (SELECT s.registration_id FROM enrollments s
                                WHERE s.id = enrollments.superseded_by) COLLATE NOCASE;
    `);
  },
};
