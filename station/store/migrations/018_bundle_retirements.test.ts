import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-018-');

const T0 = '2026-03-01T10:00:00.000Z';
const SHA = 'a'.repeat(64);

/**
 * A version-17 file with three bundles exported in the same second (their rowids order them),
 * the second one answered by a receipt, each carrying one enrollment.
 */
function version17Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 17));
  const device = db.prepare(
    `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, status, created_at, updated_at)
    VALUES (?, ?, ?, 'tpm', '{}', 'pending', ?, ?)`);
  const bundle = db.prepare(`INSERT INTO bundles (id, created_at, file, enrollments, written_at,
    received_at, receipt) VALUES (?, ?, ?, 1, ?, ?, ?)`);
  const member = db.prepare(`INSERT INTO bundle_enrollments (bundle_id, enrollment_id,
    body_sha256, sends_received, answer_applied) VALUES (?, ?, ?, ?, ?)`);
  for (const [n, name] of ['zulu', 'alpha', 'mike'].entries()) {
    const deviceId = Number(device.run(`SN${n}`, T0).lastInsertRowid);
    const runId = Number(run.run(T0, T0, deviceId, `reg-${n}`).lastInsertRowid);
    const enrollmentId = Number(enroll.run(`reg-${n}`, deviceId, runId, T0, T0).lastInsertRowid);
    const answered = name === 'alpha';
    bundle.run(
      name,
      T0,
      `/media/stick/${name}.bundle`,
      T0,
      answered ? T0 : null,
      answered ? '{"synced":1,"failed":0,"conflict":0,"pending":0}' : null,
    );
    member.run(name, enrollmentId, SHA, answered ? 1 : 0, answered ? 'synced' : null);
  }
  db.close();
}

describe('migration 018: a bundle may carry retirements without enrollments', () => {
  it('keeps every bundle, its rows, their order and the cascade, and allows retirements alone', () => {
    version17Database();
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(
        db
          .prepare(`SELECT id, enrollments, retirements, receipt FROM bundles ORDER BY rowid`)
          .all(),
      ).toEqual([
        { id: 'zulu', enrollments: 1, retirements: 0, receipt: null },
        {
          id: 'alpha',
          enrollments: 1,
          retirements: 0,
          receipt: '{"synced":1,"failed":0,"conflict":0,"pending":0}',
        },
        { id: 'mike', enrollments: 1, retirements: 0, receipt: null },
      ]);
      expect(
        db
          .prepare(
            `SELECT bundle_id AS b, enrollment_id AS e, sends_received AS s, answer_applied AS a
             FROM bundle_enrollments ORDER BY bundle_id`,
          )
          .all(),
      ).toEqual([
        { b: 'alpha', e: 2, s: 1, a: 'synced' },
        { b: 'mike', e: 3, s: 0, a: null },
        { b: 'zulu', e: 1, s: 0, a: null },
      ]);

      // Retirements alone now fit; a bundle carrying nothing still does not.
      const add = db.prepare(`INSERT INTO bundles (id, created_at, file, enrollments, retirements)
        VALUES (?, ?, 'f', ?, ?)`);
      add.run('retiring', T0, 0, 3);
      expect(() => add.run('empty', T0, 0, 0)).toThrow(/CHECK constraint failed/);
      expect(() => add.run('negative', T0, -1, 2)).toThrow(/CHECK constraint failed/);

      // The renamed child still points at the renamed parent: deleting a bundle takes its rows.
      db.prepare(`DELETE FROM bundles WHERE id = 'zulu'`).run();
      expect(
        db
          .prepare(`SELECT count(*) FROM bundle_enrollments WHERE bundle_id = 'zulu'`)
          .pluck()
          .get(),
      ).toBe(0);
      expect(() =>
        db
          .prepare(
            `INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256)
            VALUES ('nowhere', 1, ?)`,
          )
          .run(SHA),
      ).toThrow(/FOREIGN KEY constraint failed/);
      // The receipt lookups still seek through the index by enrollment.
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN SELECT * FROM bundle_enrollments WHERE enrollment_id = 2`)
        .all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toContain('bundle_enrollments_by_enrollment');
    } finally {
      db.close();
    }
  });
});
