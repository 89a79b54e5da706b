import type { Migration } from './index.js';

/**
 * Enrollments the station disables in DPS because a supervisor revoked their certificate
 * (`station ca revoke`, station/store/revokedEnrollment.ts): one row per outbox row DPS may hold
 * (synced, sent before, or carried in a bundle), apart from migration 017's retirement, which
 * belongs to superseded rows alone and whose CHECK keeps it so. `state` starts `due`; the sync
 * worker settles it as its retirement settles a superseded row: `disabled` (DPS held it with
 * the revoked certificate), `absent`, or `not-ours` (DPS holds other credentials under the ID,
 * which the station never touches). A due row DPS did not settle waits until `retry_after`,
 * longer each try, with why in `note`.
 */
export const migration022RevocationDisables: Migration = {
  version: 22,
  name: 'revocation_disables',
  up(db) {
    db.exec(`
      CREATE TABLE revocation_disables (
        enrollment_id INTEGER PRIMARY KEY REFERENCES enrollments (id),
        certificate_serial TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'due'
          CHECK (state IN ('due', 'disabled', 'absent', 'not-ours')),
        tries INTEGER NOT NULL DEFAULT 0,
        retry_after TEXT,
        note TEXT,
        created_at TEXT NOT NULL,
        settled_at TEXT CHECK ((settled_at IS NULL) = (state = 'due'))
      );
      -- The worker asks at every pass whether one is due: a seek, not a walk through history.
      CREATE INDEX revocation_disables_due ON revocation_disables (enrollment_id)
        WHERE state = 'due';
    `);
  },
};
