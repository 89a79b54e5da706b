import type { Migration } from './index.js';

/**
 * An index of superseded enrollments by registration ID, as DPS compares them (ignoring case).
 *
 * When DPS already holds a re-provisioned device's registration ID, the sync worker looks up
 * our earlier, superseded enrollments of that ID to tell "our own earlier one: replace it" from
 * a conflict (station/sync/dpsReconciler.ts). The only index that query could use was
 * `enrollments_by_status`, which made it read every superseded row the station ever wrote, on
 * its event loop, once per re-provisioned device: superseded rows are history and only grow, so
 * the lookup slowed down all shift and all year. The one-live-per-ID index cannot answer it (it
 * leaves superseded rows out, and compares case-sensitively).
 */
export const migration007SupersededByRegistrationId: Migration = {
  version: 7,
  name: 'superseded_by_registration_id',
  up(db) {
    db.exec(`
      CREATE INDEX enrollments_superseded_by_registration_id
        ON enrollments (registration_id COLLATE NOCASE, id) WHERE status = 'superseded';
    `);
  },
};
