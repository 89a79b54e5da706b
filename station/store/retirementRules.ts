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
 *
 * A group member is the exception: it has no enrollment of its own in DPS, and an individual
 * enrollment under its registration ID takes precedence over its group (dps-protocol.md), so a
 * device moved from an individual enrollment to a group under the same ID could never register.
 * Its earlier individual rows stay due while it is live, and are deleted from DPS rather than
 * disabled (a disabled individual enrollment blocks the device all the same).
 */

/** The attestation of outbox rows DPS knows through their enrollment group only, as SQL. */
export const MEMBER_ATTESTATION = `'symmetric-key-group'`;
const MEMBER = MEMBER_ATTESTATION;

/**
 * The condition on row `t` of enrollments that DPS may hold it: it was sent at least once, or
 * carried in an outbox bundle (whose receipt may not be back).
 */
export function maybeInDps(t: string): string {
  return `(${t}.attempts > 0 OR ${t}.id IN (SELECT enrollment_id FROM bundle_enrollments))`;
}

/**
 * The condition on row `t` that it is an earlier individual enrollment (superseded, no group
 * member) of the registration ID bound to `?`: what keeps a group member under that ID out of
 * DPS. Through migration 007's index (NOCASE).
 */
export function earlierIndividualOf(t: string): string {
  return `${t}.registration_id = ? COLLATE NOCASE AND ${t}.status = 'superseded'
    AND ${t}.attestation != ${MEMBER}`;
}

/**
 * The ids of the earlier individual rows (earlierIndividualOf) of the registration ID bound to
 * `?` whose retirement is one of `states`: what may keep a group member under that ID out of DPS.
 */
export function earlierIndividualIds(states: readonly ('due' | 'not-ours')[]): string {
  return `SELECT id FROM enrollments e WHERE ${earlierIndividualOf('e')}
    AND e.retirement IN (${states.map((state) => `'${state}'`).join(', ')})`;
}

/**
 * The condition on row `t` that a live group member's row uses its registration ID: its
 * retirement deletes it from DPS (supersededRetirement.ts). A seek through the one-live-per-ID
 * index.
 */
export function heldByGroupMember(t: string): string {
  return `EXISTS (SELECT 1 FROM enrollments live WHERE live.registration_id = ${t}.registration_id
    AND live.status != 'superseded' AND live.attestation = ${MEMBER})`;
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
    AND attestation != ${MEMBER} AND ${maybeInDps('enrollments')}
    AND NOT EXISTS (SELECT 1 FROM enrollments live
      WHERE live.registration_id = enrollments.registration_id AND live.status != 'superseded'
        AND live.attestation != ${MEMBER})`;

/**
 * Marks for retirement (deletion from DPS) the earlier individual rows of registration ID `?`,
 * just committed as a group member's, that DPS may hold: those not retired yet, and those
 * retired by disabling, which blocks the member as much.
 */
export const MARK_RETIREMENTS_FOR_MEMBER_SQL = `UPDATE enrollments SET retirement = 'due',
    retired_at = NULL, retire_tries = 0, retire_after = NULL, retire_note = NULL
  WHERE ${earlierIndividualOf('enrollments')} AND (retirement IS NULL OR retirement = 'disabled')
    AND ${maybeInDps('enrollments')}`;

/**
 * Looks again at the earlier individual rows found to be another party's in DPS under the
 * registration ID of group member `?` (a row id), when a supervisor requeues the member: the
 * conflict's advice is to remove that record from DPS, and the retirement reads DPS again
 * (deleting the record if it turns out ours). Nothing for a row that is no group member.
 */
export const RECHECK_UNDER_MEMBER_SQL = `UPDATE enrollments SET retirement = 'due',
    retired_at = NULL, retire_tries = 0, retire_after = NULL, retire_note = NULL
  WHERE registration_id = (SELECT registration_id FROM enrollments
      WHERE id = ? AND attestation = ${MEMBER}) COLLATE NOCASE
    AND status = 'superseded' AND retirement = 'not-ours' AND attestation != ${MEMBER}`;

/**
 * Marks superseded row `?` due for retirement again: a receipt reported that DPS got it (created
 * it, or found or enabled it) after its retirement had settled, as a bundle synced late does (one
 * declared lost that turned up, or an old one run again). DPS then holds it enabled once more,
 * under an ID the device left, or in front of a group member's enrollment group; a row found
 * another party's may be ours now (the late bundle replaced that record with it): the
 * retirement compares credentials again. Not while a live individual row has the ID: that row's
 * own sync owns DPS's record, and replaces ours.
 */
export const RETIRE_AGAIN_SQL = `UPDATE enrollments SET retirement = 'due', retired_at = NULL,
    retire_tries = 0, retire_after = NULL, retire_note = NULL
  WHERE id = ? AND status = 'superseded' AND attestation != ${MEMBER}
    AND retirement IN ('absent', 'disabled', 'not-ours')
    AND NOT EXISTS (SELECT 1 FROM enrollments live
      WHERE live.registration_id = enrollments.registration_id AND live.status != 'superseded'
        AND live.attestation != ${MEMBER})`;

/**
 * Takes registration ID `?` out of retirement: a row just committed uses it again, and its
 * sync owns DPS's record of it from now on. Reads the due rows only (their partial index). Not
 * for a group member's commit (MARK_RETIREMENTS_FOR_MEMBER_SQL).
 */
export const CLEAR_RETIREMENTS_SQL = `UPDATE enrollments SET retirement = NULL,
    retire_tries = 0, retire_after = NULL, retire_note = NULL
  WHERE retirement = 'due' AND registration_id = ?`;
