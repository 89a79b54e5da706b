import type { Migration } from './index.js';

/**
 * Certificates the station's CA issued. A row is written when the certificate is issued, before
 * it reaches the device; its status then follows the run: `committed` with the device record,
 * `abandoned` when the run failed before commit, `revoked` by a supervisor.
 */
export const migration001Certificates: Migration = {
  version: 1,
  name: 'certificates',
  up(db) {
    db.exec(`
      CREATE TABLE certificates (
        serial_number       TEXT PRIMARY KEY,
        registration_id     TEXT NOT NULL,
        subject             TEXT NOT NULL,
        fingerprint_sha256  TEXT NOT NULL UNIQUE,
        not_before          TEXT NOT NULL,
        not_after           TEXT NOT NULL,
        profile             TEXT NOT NULL,
        key_source          TEXT NOT NULL CHECK (key_source IN ('device', 'station')),
        certificate_der     BLOB NOT NULL,
        issued_at           TEXT NOT NULL,
        status              TEXT NOT NULL DEFAULT 'issued'
                            CHECK (status IN ('issued', 'committed', 'abandoned', 'revoked')),
        revoked_at          TEXT,
        revocation_reason   TEXT
      ) STRICT;
      CREATE INDEX certificates_by_registration_id ON certificates (registration_id, issued_at);
    `);
  },
};
