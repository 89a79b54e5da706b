import type { Migration } from './index.js';

/**
 * The DPS host named by the first receipt this station applied for a bundle (station/bundle/
 * bundleReceive.ts): a later receipt of the same bundle that names another host is refused, so a
 * bundle synced by mistake to an emulator or a staging DPS cannot settle rows twice over. Null
 * until a receipt is applied. A bundle received before this migration takes the host of its first
 * receive that settled something (`outbox.bundle-received` has named it since receive existed);
 * one of a sync that reached no DPS names none.
 */
export const migration025BundleDpsHost: Migration = {
  version: 25,
  name: 'bundle_dps_host',
  up(db) {
    db.exec(`
      ALTER TABLE bundles ADD COLUMN dps_host TEXT
        CHECK (dps_host IS NULL OR received_at IS NOT NULL);
      UPDATE bundles SET dps_host = (
          SELECT json_extract(a.detail, '$.dpsHost') FROM audit_events a
          WHERE a.kind = 'outbox.bundle-received' AND a.subject = bundles.id
            AND json_type(a.detail, '$.dpsHost') = 'text'
            AND coalesce(json_extract(a.detail, '$.synced'), 0)
              + coalesce(json_extract(a.detail, '$.failed'), 0)
              + coalesce(json_extract(a.detail, '$.conflict'), 0)
              + coalesce(json_extract(a.detail, '$.retired'), 0) > 0
          ORDER BY a.id LIMIT 1)
        WHERE received_at IS NOT NULL;
    `);
  },
};
