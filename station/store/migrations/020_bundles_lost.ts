import type { Migration } from './index.js';

/**
 * A bundle a supervisor declared lost (`station bundle lost`): the stick went missing or was
 * wiped before its bundle was synced. `lost_at` and `lost_by` (the supervisor's name) are set
 * together, only on a bundle whose file was written. A lost bundle no longer holds back what it
 * carried: its pending rows go in the next export, and a retirement it carried stops waiting
 * for its receipt. Should its receipt come back after all, it is applied like any other.
 */
export const migration020BundlesLost: Migration = {
  version: 20,
  name: 'bundles_lost',
  up(db) {
    db.exec(`
      ALTER TABLE bundles ADD COLUMN lost_at TEXT
        CHECK (lost_at IS NULL OR written_at IS NOT NULL);
      ALTER TABLE bundles ADD COLUMN lost_by TEXT
        CHECK ((lost_by IS NULL) = (lost_at IS NULL));
    `);
  },
};
