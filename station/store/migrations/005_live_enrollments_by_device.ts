import type { Migration } from './index.js';

/**
 * An index of each device's live enrollment.
 *
 * Before every commit the station asks whether the device already has a live enrollment (the
 * duplicate policy: refuse, or supersede it). That question came through `enrollments_by_device`,
 * which holds every enrollment the device ever had: a device re-provisioned on a rework bench
 * again and again made the lookup read its whole history, on the station's event loop, at
 * every commit. Superseded rows are history and never the answer, so this partial index holds
 * the live ones only: at most one per registration ID, and in practice one per device.
 */
export const migration005LiveEnrollmentsByDevice: Migration = {
  version: 5,
  name: 'live_enrollments_by_device',
  up(db) {
    db.exec(`
      CREATE INDEX enrollments_live_by_device ON enrollments (device_id)
        WHERE status != 'superseded';
    `);
  },
};
