import type { Migration } from './index.js';

/**
 * Earlier individual enrollments under a registration ID that a group member now uses are
 * retired by deletion from DPS (station/store/retirementRules.ts): an individual enrollment takes
 * precedence over the group, enabled or disabled, so the member's device could never register.
 * Migration 017 left such rows alone (a live row had their ID). They become `due` here, once, by
 * the rule the commit applies from now on, written out as a migration must stay as it ran: the
 * live row of the ID is a group member, the earlier row is not, DPS may hold it (sent at least
 * once, or carried in an outbox bundle), and it was not retired yet or only disabled.
 */
export const migration019RetireUnderGroupMembers: Migration = {
  version: 19,
  name: 'retire_under_group_members',
  up(db) {
    db.exec(`
      UPDATE enrollments SET retirement = 'due', retired_at = NULL, retire_tries = 0,
          retire_after = NULL, retire_note = NULL
      WHERE status = 'superseded' AND attestation != 'symmetric-key-group'
        AND (retirement IS NULL OR retirement = 'disabled')
        AND (attempts > 0 OR id IN (SELECT enrollment_id FROM bundle_enrollments))
        AND EXISTS (SELECT 1 FROM enrollments live
          WHERE live.registration_id = enrollments.registration_id COLLATE NOCASE
            AND live.status != 'superseded' AND live.attestation = 'symmetric-key-group');
    `);
  },
};
