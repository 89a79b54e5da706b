import type { Migration } from './index.js';

/**
 * The DPS host named by the first receipt this station applied for a bundle (station/bundle/
 * bundleReceive.ts): a later receipt of the same bundle that names another host is refused, so a
 * bundle synced by mistake to an emulator or a staging DPS cannot settle rows twice over. Null
 * until a receipt is applied. A bundle received before this migration takes the host of its first
 * audited receive that met any answer of DPS (`outbox.bundle-received` has named the host and
 * counted every answer since receive existed: applied, settled here already, left alone,
 * retired), as the receive now does; one of a sync that reached no DPS names none.
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
              + coalesce(json_extract(a.detail, '$.alreadySettled'), 0)
              + coalesce(json_extract(a.detail, '$.leftAlone'), 0)
              + coalesce(json_extract(a.detail, '$.exportAgain'), 0)
              + coalesce(json_extract(a.detail, '$.retired'), 0)
              + coalesce(json_extract(a.detail, '$.retiredAgain'), 0) > 0
          ORDER BY a.id LIMIT 1)
        WHERE received_at IS NOT NULL;
    `);
  },
};
