import type { Migration } from './index.js';

/**
 * Devices, provisioning runs, the enrollment outbox and the audit trail.
 *
 * A run is opened (`running`) before the first step so that a crash mid-run still leaves a trace;
 * it ends as `pass` only in the same transaction that writes its enrollment, so the CHECKs below
 * can insist that a passed run names its device and registration ID.
 *
 * The outbox keeps history: re-provisioning marks the earlier enrollment `superseded` (pointing at
 * its successor) instead of deleting it. The partial unique index is what stops two live
 * enrollments from claiming one registration ID, whatever the caller believes.
 *
 * audit_events is append-only. Triggers refuse UPDATE and DELETE, and an INSERT that names an
 * existing id: INSERT OR REPLACE deletes the old row first, and that delete fires the DELETE
 * trigger only where recursive_triggers is on (the station sets it; a bare connection does not).
 */
export const migration002Provisioning: Migration = {
  version: 2,
  name: 'provisioning',
  up(db) {
    db.exec(`
      CREATE TABLE devices (
        id                 INTEGER PRIMARY KEY,
        serial_number      TEXT NOT NULL,
        model              TEXT NOT NULL,
        -- NULL when only a failed run saw the device (it failed before identify finished).
        hardware_revision  TEXT,
        firmware_version   TEXT,
        first_seen_at      TEXT NOT NULL,
        UNIQUE (serial_number, model)
      ) STRICT;

      CREATE TABLE runs (
        id                  INTEGER PRIMARY KEY,
        port                TEXT NOT NULL,
        profile             TEXT NOT NULL,
        device_id           INTEGER REFERENCES devices (id),
        registration_id     TEXT,
        state               TEXT NOT NULL DEFAULT 'running'
                            CHECK (state IN ('running', 'pass', 'fail', 'cancelled')),
        error_code          TEXT,
        error_message       TEXT,
        error_detail        TEXT,
        steps               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(steps)),
        started_at          TEXT NOT NULL,
        finished_at         TEXT,
        certificate_serial  TEXT REFERENCES certificates (serial_number),
        CHECK ((state = 'running') = (finished_at IS NULL)),
        CHECK (state != 'pass' OR
               (device_id IS NOT NULL AND registration_id IS NOT NULL AND error_code IS NULL)),
        CHECK (state NOT IN ('fail', 'cancelled') OR error_code IS NOT NULL)
      ) STRICT;
      CREATE INDEX runs_by_device ON runs (device_id, id);
      CREATE INDEX runs_by_certificate ON runs (certificate_serial)
        WHERE certificate_serial IS NOT NULL;

      CREATE TABLE enrollments (
        id               INTEGER PRIMARY KEY,
        registration_id  TEXT NOT NULL,
        device_id        INTEGER NOT NULL REFERENCES devices (id),
        run_id           INTEGER NOT NULL UNIQUE REFERENCES runs (id),
        attestation      TEXT NOT NULL CHECK (attestation IN ('x509-device-key', 'x509-station-key',
                           'symmetric-key-group', 'symmetric-key-individual', 'tpm')),
        body             TEXT NOT NULL CHECK (json_valid(body)),
        sealed_secret    TEXT CHECK (sealed_secret IS NULL OR json_valid(sealed_secret)),
        status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                           ('pending', 'syncing', 'synced', 'failed', 'conflict', 'superseded')),
        attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error       TEXT,
        etag             TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        -- Set in the same transaction that marks the row superseded, once the successor exists.
        superseded_by    INTEGER REFERENCES enrollments (id),
        CHECK (superseded_by IS NULL OR (status = 'superseded' AND superseded_by != id))
      ) STRICT;
      -- The sync worker drains by status in id order.
      CREATE INDEX enrollments_by_status ON enrollments (status, id);
      CREATE INDEX enrollments_by_device ON enrollments (device_id, id);
      CREATE UNIQUE INDEX enrollments_one_live_per_registration_id ON enrollments (registration_id)
        WHERE status != 'superseded';

      CREATE TABLE audit_events (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        actor    TEXT NOT NULL CHECK (actor = 'station' OR actor GLOB 'operator:?*'
                                      OR actor GLOB 'supervisor:?*'),
        kind     TEXT NOT NULL,
        subject  TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
      ) STRICT;
      CREATE INDEX audit_events_by_kind ON audit_events (kind, id);
      CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_events_refuse_replace BEFORE INSERT ON audit_events
        WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    `);
  },
};
