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
 * - `retire_tries`, `retire_after`, `retire_note`: a due row DPS did not settle, how often, not
 *   before when it is tried again, and why (station/sync/retirementStore.ts).
 *
 * Rows already superseded become `due`, once, here, by the rule the commit applies from now on
 * (station/store/retirementRules.ts, written out here as a migration must stay as it ran): no
 * live row has its registration ID any more, DPS may hold it (sent at least once, or carried in
 * an outbox bundle), and it is no group member (their group's enrollment holds them).
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
      -- A due row DPS did not settle (refused it alone, changed it meanwhile) waits before
      -- its next try, longer each time, with why: it must not hold up the others for ever.
      ALTER TABLE enrollments ADD COLUMN retire_tries INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE enrollments ADD COLUMN retire_after TEXT;
      ALTER TABLE enrollments ADD COLUMN retire_note TEXT;
      -- The worker looks for due rows at every pass: a seek, not a walk through history.
      CREATE INDEX enrollments_retirement_due ON enrollments (id) WHERE retirement = 'due';
      -- Every PASS takes its registration ID out of retirement: a seek by ID, however many
      -- rows an air-gapped line has due.
      CREATE INDEX enrollments_retirement_due_by_registration_id
        ON enrollments (registration_id) WHERE retirement = 'due';

      UPDATE enrollments SET retirement = 'due'
      WHERE status = 'superseded' AND retirement IS NULL
        AND attestation != 'symmetric-key-group'
        AND (attempts > 0 OR id IN (SELECT enrollment_id FROM bundle_enrollments))
        AND NOT EXISTS (SELECT 1 FROM enrollments live
          WHERE live.registration_id = enrollments.registration_id
            AND live.status != 'superseded');
    `);
  },
};
