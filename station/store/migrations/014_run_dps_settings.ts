import type { Migration } from './index.js';

/**
 * The DPS settings each run writes into its device, recorded as the run opens: the ID scope and
 * global endpoint, and the fingerprint of the profile they came from (the first 16 hex digits of
 * the SHA-256 of its canonical JSON; the profile's name is the run's `profile`). The station
 * cannot check a scope against DPS, so a wrong but well-formed one provisions and syncs; only this
 * record tells which devices a day with a bad scope reached, and that the profiles file changed
 * between two runs. All three or none: NULL is a run from before, which recorded nothing.
 *
 * The scope compares without letter case (the portal writes its hex digits in upper case, a
 * profile may not): `station runs --id-scope` finds a scope's runs whichever way it is typed,
 * newest first down `runs_by_id_scope`, which holds only the runs that recorded one.
 */
export const migration014RunDpsSettings: Migration = {
  version: 14,
  name: 'run_dps_settings',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN dps_id_scope TEXT COLLATE NOCASE;
      ALTER TABLE runs ADD COLUMN dps_global_endpoint TEXT;
      ALTER TABLE runs ADD COLUMN profile_fingerprint TEXT
        CHECK ((profile_fingerprint IS NULL) = (dps_id_scope IS NULL)
          AND (profile_fingerprint IS NULL) = (dps_global_endpoint IS NULL)
          AND (profile_fingerprint IS NULL OR (length(profile_fingerprint) = 16
            AND NOT profile_fingerprint GLOB '*[^0-9a-f]*')));
      CREATE INDEX runs_by_id_scope ON runs (dps_id_scope, id) WHERE dps_id_scope IS NOT NULL;
    `);
  },
};
