import type Database from 'better-sqlite3';
import type { PortPass } from '../line/runRecorder.js';
import type { AttestationMode } from '../profiles/attestationModes.js';

/**
 * How far back, in runs, a restarted line looks for the last run of each port: far enough for
 * every port that was busy when the station stopped (64 ports × 150 runs), and a bounded read of
 * the newest rows by rowid however large the history is.
 */
export const LAST_RUNS_WINDOW = 10_000;

/**
 * Each port whose latest ended run among the newest LAST_RUNS_WINDOW runs passed, with its
 * device, and whose enrollment is still live (not superseded), with that enrollment's attestation
 * and the run's credential: for X.509 its certificate, for a TPM the hash of the EK it checked.
 * One read of those rows, grouped by port, then one lookup per port by id; the enrollment
 * through its unique run_id. CROSS JOIN keeps that order: left to itself, SQLite walked every
 * PASS ever made (runs_by_state) instead.
 */
export const LAST_PASSES_BY_PORT_SQL = `WITH latest AS (
    SELECT port, max(id) AS id FROM runs
    WHERE id > (SELECT coalesce(max(id), 0) FROM runs) - @window AND state != 'running'
    GROUP BY port)
  SELECT r.id AS runId, r.port, d.serial_number AS serialNumber, d.model,
    r.registration_id AS registrationId, r.finished_at AS passedAt, e.attestation,
    json_extract(r.attestation_evidence, '$.endorsement.ekSha256') AS ekSha256,
    c.certificate_der AS certificateDer
  FROM latest CROSS JOIN runs r ON r.id = latest.id JOIN devices d ON d.id = r.device_id
    JOIN enrollments e ON e.run_id = r.id
    LEFT JOIN certificates c ON c.serial_number = r.certificate_serial
  WHERE r.state = 'pass' AND e.status != 'superseded'
  ORDER BY r.port`;

type PassRow = Omit<PortPass, 'ekSha256' | 'certificateDer'> & {
  attestation: AttestationMode;
  ekSha256: string | null;
  certificateDer: Buffer | null;
};

/** The ports whose last run passed (RunRecorder.lastPassesByPort). */
export function lastPassesByPort(db: Database.Database): PortPass[] {
  const rows = db.prepare(LAST_PASSES_BY_PORT_SQL).all({ window: LAST_RUNS_WINDOW }) as PassRow[];
  return rows.map(({ ekSha256, certificateDer, ...pass }) => ({
    ...pass,
    ...(ekSha256 !== null && { ekSha256 }),
    ...(certificateDer !== null && { certificateDer: new Uint8Array(certificateDer) }),
  }));
}
