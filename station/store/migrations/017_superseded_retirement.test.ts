import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-017-');

const T0 = '2026-03-01T10:00:00.000Z';

/**
 * A version-16 file of devices each re-provisioned once, as the store commits it (the earlier
 * row superseded, then linked to its successor), by what set them apart: whether the ID
 * changed, and whether DPS may hold the earlier row (sent, or carried in a bundle).
 */
function version16Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 16));
  const device = db.prepare(
    `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, attempts, created_at, updated_at) VALUES (?, ?, ?, 'tpm', '{}', ?, ?, ?)`);
  const supersede = db.prepare(`UPDATE enrollments SET status = 'superseded' WHERE id = ?`);
  const link = db.prepare(`UPDATE enrollments SET superseded_by = ? WHERE id = ?`);
  db.prepare(
    `INSERT INTO bundles (id, created_at, file, enrollments, written_at)
    VALUES ('b1', ?, 'f', 1, ?)`,
  ).run(T0, T0);
  const carry = db.prepare(`INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256)
    VALUES ('b1', ?, ?)`);
  const cases: [serial: string, earlierId: string, laterId: string, attempts: number][] = [
    ['changed-sent', 'old-1', 'new-1', 1],
    ['changed-never-sent', 'old-2', 'new-2', 0],
    ['changed-bundled', 'old-3', 'new-3', 0],
    ['same-sent', 'same-4', 'same-4', 2],
    ['case-only', 'case-5', 'CASE-5', 1],
  ];
  for (const [serial, earlierId, laterId, attempts] of cases) {
    const deviceId = Number(device.run(serial, T0).lastInsertRowid);
    const first = Number(run.run(T0, T0, deviceId, earlierId).lastInsertRowid);
    const earlier = Number(
      enroll.run(earlierId, deviceId, first, attempts, T0, T0).lastInsertRowid,
    );
    if (serial === 'changed-bundled') carry.run(earlier, 'a'.repeat(64));
    supersede.run(earlier);
    const second = Number(run.run(T0, T0, deviceId, laterId).lastInsertRowid);
    link.run(enroll.run(laterId, deviceId, second, 0, T0, T0).lastInsertRowid, earlier);
  }
  db.close();
}

const retirements = (db: Database.Database) =>
  db
    .prepare(
      `SELECT registration_id AS id, retirement, retired_at AS at FROM enrollments
      WHERE status = 'superseded' ORDER BY rowid`,
    )
    .all();

describe('migration 017: superseded enrollments left in DPS under another registration ID', () => {
  it('marks them due once: ID changed, and DPS may hold them (sent or carried in a bundle)', () => {
    version16Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(migrations[16]).toMatchObject({ version: 17, name: 'superseded_retirement' });

    expect(retirements(db)).toEqual([
      { id: 'old-1', retirement: 'due', at: null },
      { id: 'old-2', retirement: null, at: null },
      { id: 'old-3', retirement: 'due', at: null },
      { id: 'same-4', retirement: null, at: null },
      { id: 'case-5', retirement: null, at: null },
    ]);
    // The worker's question is answered by the partial index, not by reading history.
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT id FROM enrollments WHERE retirement = 'due'`)
      .all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join()).toContain('enrollments_retirement_due');
    db.close();

    // Opened again, the step is not run again: a settled row stays settled.
    const settled = openStationDatabase(databaseFile());
    settled
      .prepare(`UPDATE enrollments SET retirement = 'disabled', retired_at = ? WHERE id = 1`)
      .run(T0);
    settled.close();
    const again = openStationDatabase(databaseFile());
    expect(again.prepare(`SELECT retirement FROM enrollments WHERE id = 1`).pluck().get()).toBe(
      'disabled',
    );
    again.close();
  });

  it('refuses a retirement on a live row, and a settled one without its time', () => {
    version16Database();
    const db = openStationDatabase(databaseFile());
    const live = db
      .prepare(`SELECT id FROM enrollments WHERE status != 'superseded' LIMIT 1`)
      .pluck()
      .get();
    expect(() =>
      db.prepare(`UPDATE enrollments SET retirement = 'due' WHERE id = ?`).run(live),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      db.prepare(`UPDATE enrollments SET retirement = 'absent' WHERE id = 1`).run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      db.prepare(`UPDATE enrollments SET retirement = 'gone', retired_at = ? WHERE id = 1`).run(T0),
    ).toThrow(/CHECK constraint failed/);
    db.close();
  });
});
