import type { Migration } from './index.js';

/**
 * Group members an earlier version marked `synced` without asking DPS go back to `pending`, once,
 * in every database: their enrollment group is then checked like any member's, by this station's
 * own sync or, on a line that never reaches DPS (no sync worker ever runs there), by the next
 * `bundle export`, which carries pending rows only.
 *
 * Matched by the exact notes those versions wrote, never by what this version writes:
 * - the sync worker: `covered by enrollment group <group ID or (unnamed)>`;
 * - `bundle receive` of their receipts: `synced through bundle <8 hex> (<the syncing machine's
 *   note, the one above>)`, or `(covered by its enrollment group)` when the receipt had none.
 * A confirmed row says `confirmed by …` instead, in either form, and is left alone. Group IDs
 * hold no space or parenthesis (DPS takes `a-z0-9-._:`), so a group's name cannot fake a prefix.
 *
 * Each reopened row gets one `enrollment.sync-reopened` audit event, in this transaction, with
 * the note it had (the row's note is cleared, as a pending row has none).
 */
export const migration016ReopenUnconfirmedGroupMembers: Migration = {
  version: 16,
  name: 'reopen_unconfirmed_group_members',
  up(db) {
    const rows = db
      .prepare(
        `SELECT id, registration_id AS registrationId, sync_note AS note FROM enrollments
        WHERE status = 'synced' AND attestation = 'symmetric-key-group' AND (
          sync_note LIKE 'covered by enrollment group %'
          OR sync_note LIKE 'synced through bundle % (covered by enrollment group %)'
          OR sync_note LIKE 'synced through bundle % (covered by its enrollment group)')
        ORDER BY id`,
      )
      .all() as { id: number; registrationId: string; note: string }[];
    // A migration has no station clock: the time it ran is the time of the change.
    const at = new Date().toISOString();
    const reopen = db.prepare(`UPDATE enrollments SET status = 'pending', synced_at = NULL,
        next_attempt_at = NULL, sync_note = NULL, updated_at = ? WHERE id = ?`);
    const event = db.prepare(`INSERT INTO audit_events (at, actor, kind, subject, detail)
        VALUES (?, 'station', 'enrollment.sync-reopened', ?, ?)`);
    for (const row of rows) {
      reopen.run(at, row.id);
      event.run(
        at,
        row.registrationId,
        JSON.stringify({
          enrollmentId: row.id,
          earlierNote: row.note,
          reason: 'marked synced without DPS confirming its enrollment group: checked again',
          by: 'migration 16',
        }),
      );
    }
  },
};
