import type Database from 'better-sqlite3';
import {
  CLEAR_RETIREMENTS_SQL,
  MARK_RETIREMENTS_DUE_SQL,
  MARK_RETIREMENTS_FOR_MEMBER_SQL,
} from './retirementRules.js';

/**
 * The latest PASS of another device with a TPM EK (parameters: EK SHA-256, serial number,
 * model). `attestation_evidence IS NOT NULL` lets SQLite use migration 012's partial index.
 */
export const PASS_OF_ENDORSEMENT_KEY_ELSEWHERE_SQL = `SELECT r.id AS runId,
    d.serial_number AS serialNumber, d.model, r.registration_id AS registrationId,
    r.finished_at AS passedAt
  FROM runs r JOIN devices d ON d.id = r.device_id
  WHERE r.attestation_evidence IS NOT NULL
    AND json_extract(r.attestation_evidence, '$.endorsement.ekSha256') = ?
    AND r.state = 'pass' AND NOT (d.serial_number = ? AND d.model = ?)
  ORDER BY r.id DESC LIMIT 1`;

/**
 * The statements of ProvisioningStore, prepared once per database. Kept apart from the store so
 * the SQL reads as one piece and the store as the order of a commit.
 */
export function prepareProvisioningStatements(db: Database.Database) {
  return {
    insertRun: db.prepare(`INSERT INTO runs (port, profile, started_at, owner_host, owner_pid,
      owner_token, owner_boot, owner_start, started_by, device_id, dps_id_scope,
      dps_global_endpoint, profile_fingerprint, operator_name)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    runState: db.prepare(`SELECT state FROM runs WHERE id = ?`).pluck(),
    // The port's latest ended runs, newest first, with the device each named (if any): the
    // failure count walks them as the slot's own count saw them (failedRunsInARow). Ordered by
    // start time so that the window's index (runs_by_started_at) bounds the read: by id, a port
    // with no run in the window made SQLite walk back through every run ever made (0.26 s at
    // 100,000 runs, on the line's loop). The caller stops reading as soon as it knows.
    latestRunsOnPort: db.prepare(
      `SELECT r.state, r.error_code AS errorCode, d.serial_number AS serialNumber, d.model,
          r.started_by AS startedBy
        FROM runs r
        LEFT JOIN devices d ON d.id = r.device_id
      WHERE r.port = ? AND r.id < ? AND r.started_at >= ? AND r.state != 'running'
      ORDER BY r.started_at DESC, r.id DESC`,
    ),
    // An unknown revision (a failed run saw only serial and model) never erases a known one.
    upsertDevice: db
      .prepare(
        `INSERT INTO devices (serial_number, model, hardware_revision, firmware_version, first_seen_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (serial_number, model) DO UPDATE SET
          hardware_revision = coalesce(excluded.hardware_revision, hardware_revision),
          firmware_version = coalesce(excluded.firmware_version, firmware_version)
        RETURNING id`,
      )
      .pluck(),
    // Returns the DPS settings the run recorded as it opened, for the commit's audit event.
    finishPass: db.prepare(`UPDATE runs SET state = 'pass', device_id = ?, registration_id = ?,
      steps = ?, finished_at = ?, certificate_serial = ?, attestation_evidence = ?
      WHERE id = ? AND state = 'running'
      RETURNING dps_id_scope AS idScope, dps_global_endpoint AS globalEndpoint,
        profile_fingerprint AS profileFingerprint, operator_name AS operatorName`),
    // A failure never fails on its certificate: an unknown serial is simply not linked.
    finishFailure: db.prepare(`UPDATE runs SET state = ?, error_code = ?, error_message = ?,
      error_detail = ?, steps = ?, finished_at = ?, device_id = coalesce(?, device_id),
      registration_id = coalesce(?, registration_id),
      certificate_serial = (SELECT serial_number FROM certificates WHERE serial_number = ?),
      attestation_evidence = ?
      WHERE id = ? AND state = 'running'
      RETURNING operator_name AS operatorName`),
    commitCertificate: db.prepare(`UPDATE certificates SET status = 'committed'
      WHERE serial_number = ? AND status = 'issued' AND registration_id = ?`),
    abandonCertificate: db.prepare(`UPDATE certificates SET status = 'abandoned'
      WHERE serial_number = ? AND status = 'issued'`),
    certificateState: db.prepare(`SELECT status, registration_id AS registrationId
      FROM certificates WHERE serial_number = ?`),
    enrollmentOfRun: db.prepare(`SELECT e.id, e.status, e.registration_id AS registrationId,
        d.serial_number AS serialNumber, d.model
      FROM enrollments e JOIN devices d ON d.id = e.device_id WHERE e.run_id = ?`),
    liveEnrollment: db.prepare(`SELECT id, run_id AS runId FROM enrollments
      WHERE registration_id = ? AND status != 'superseded'`),
    markSuperseded: db.prepare(`UPDATE enrollments SET status = 'superseded', updated_at = ?
      WHERE id = ? AND status IN ('pending', 'failed', 'conflict', 'synced')`),
    linkSuccessor: db.prepare(`UPDATE enrollments SET superseded_by = ? WHERE id = ?`),
    // Which superseded rows the sync retires in DPS (migration 017): retirementRules.ts.
    markRetirementsDue: db.prepare(MARK_RETIREMENTS_DUE_SQL),
    clearRetirements: db.prepare(CLEAR_RETIREMENTS_SQL),
    markRetirementsForMember: db.prepare(MARK_RETIREMENTS_FOR_MEMBER_SQL),
    insertEnrollment: db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
        attestation, body, sealed_secret, status, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`),
    // Both arms use an index: the partial unique one on registration_id, and devices' UNIQUE.
    earlierPass: db.prepare(`SELECT r.id AS runId, d.serial_number AS serialNumber, d.model,
        e.registration_id AS registrationId, r.finished_at AS passedAt
      FROM enrollments e JOIN runs r ON r.id = e.run_id JOIN devices d ON d.id = e.device_id
      WHERE e.id IN (
        SELECT id FROM enrollments WHERE registration_id = ? AND status != 'superseded'
        UNION ALL
        SELECT e2.id FROM enrollments e2 JOIN devices d2 ON d2.id = e2.device_id
        WHERE d2.serial_number = ? AND d2.model = ? AND e2.status != 'superseded')
      ORDER BY e.id DESC LIMIT 1`),
    passOfEndorsementKeyElsewhere: db.prepare(PASS_OF_ENDORSEMENT_KEY_ELSEWHERE_SQL),
  };
}

/** The prepared statements of one database. */
export type ProvisioningStatements = ReturnType<typeof prepareProvisioningStatements>;
