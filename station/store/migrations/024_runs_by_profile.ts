import type { Migration } from './index.js';

/**
 * The runs of each profile that recorded its settings (migration 014), newest last, for the
 * read every station start makes (LAST_RECORDED_PROFILE_SQL, station/store/profileChanges.ts):
 * without it, a profile that never ran, or not lately, walked every run down the primary key,
 * inside the start's IMMEDIATE transaction (a third of a second at 300,000 runs, holding the
 * write lock). The profile compares without letter case, as that query does; only the runs
 * that recorded a fingerprint, which the query asks for alone.
 */
export const migration024RunsByProfile: Migration = {
  version: 24,
  name: 'runs_by_profile',
  up(db) {
    db.exec(`
      CREATE INDEX runs_by_profile ON runs (profile COLLATE NOCASE, id)
        WHERE profile_fingerprint IS NOT NULL;
    `);
  },
};
