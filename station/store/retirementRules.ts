/**
 * Which superseded enrollments the sync retires in DPS (migration 017), as SQL the commit runs.
 *
 * An enrollment is retired (disabled in DPS) once no enrollment of ours uses its registration ID
 * any more: its device was provisioned again under another ID, and DPS may still hold the old
 * one, enabled, with credentials the device no longer has. While a live row has the ID, that
 * row's own sync owns DPS's record of it (it replaces ours, or finds it), and retiring would
 * disable a live device's enrollment: a device that comes back to an old ID takes it back out of
 * retirement. Registration IDs are lower case (registrationIdRules.ts): the superseded rows of
 * an ID are found through migration 007's index (NOCASE), the live one through the one-live-per-ID
 * index (exact).
 */

/**
 * The condition on row `t` of enrollments that DPS may hold it: it was sent at least once, or
 * carried in an outbox bundle (whose receipt may not be back).
 */
export function maybeInDps(t: string): string {
  return `(${t}.attempts > 0 OR ${t}.id IN (SELECT enrollment_id FROM bundle_enrollments))`;
}

/**
 * Marks for retirement every superseded row of the registration ID of enrollment `?` (the row
 * a commit just superseded) that DPS may hold, if no live row has that ID. Every row of the ID,
 * not only the one superseded now: a device provisioned twice under one ID, the second time
 * never sent, then under another ID, left the first one in DPS. Group members have no
 * enrollment of their own in DPS (their group's holds them).
 */
export const MARK_RETIREMENTS_DUE_SQL = `UPDATE enrollments SET retirement = 'due'
  WHERE registration_id = (SELECT registration_id FROM enrollments WHERE id = ?) COLLATE NOCASE
    AND status = 'superseded' AND retirement IS NULL
    AND attestation != 'symmetric-key-group' AND ${maybeInDps('enrollments')}
    AND NOT EXISTS (SELECT 1 FROM enrollments live
      WHERE live.registration_id = enrollments.registration_id AND live.status != 'superseded')`;

/**
 * Takes registration ID `?` out of retirement: a row just committed uses it again, and its
 * sync owns DPS's record of it from now on. Reads the due rows only (their partial index).
 */
export const CLEAR_RETIREMENTS_SQL = `UPDATE enrollments SET retirement = NULL,
    retire_tries = 0, retire_after = NULL, retire_note = NULL
  WHERE retirement = 'due' AND registration_id = ?`;
