import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLEAR_RETIREMENTS_SQL } from '../retirementRules.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-017-');

const T0 = '2026-03-01T10:00:00.000Z';

/**
 * A version-16 file of devices provisioned again and again, as the store commits it (each
 * earlier row superseded, then linked to its successor), by what sets them apart: whether the
 * ID changed, whether DPS may hold the earlier row (sent, or carried in a bundle), whether a
 * later row took the ID back, and group members. Each device: its runs' [registration ID,
 * attempts] in order, the last one live.
 */
const DEVICES: [serial: string, attestation: string, runs: [id: string, attempts: number][]][] = [
  [
    'changed-sent',
    'tpm',
    [
      ['old-1', 1],
      ['new-1', 0],
    ],
  ],
  [
    'changed-never-sent',
    'tpm',
    [
      ['old-2', 0],
      ['new-2', 0],
    ],
  ],
  [
    'changed-bundled',
    'tpm',
    [
      ['old-3', 0],
      ['new-3', 0],
    ],
  ],
  [
    'same-sent',
    'tpm',
    [
      ['same-4', 2],
      ['same-4', 0],
    ],
  ],
  // Provisioned twice under one ID (the second never sent), then under another: the first one
  // is still in DPS under the old ID.
  [
    'twice-then-changed',
    'tpm',
    [
      ['old-5', 1],
      ['old-5', 0],
      ['new-5', 0],
    ],
  ],
  // Back to its first ID: that ID is live again, its own sync owns DPS's record.
  [
    'back-to-old',
    'tpm',
    [
      ['old-6', 1],
      ['new-6', 0],
      ['old-6', 0],
    ],
  ],
  // A group member has no enrollment of its own in DPS: nothing to retire.
  [
    'group-member',
    'symmetric-key-group',
    [
      ['old-7', 1],
      ['new-7', 0],
    ],
  ],
];

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
    attestation, body, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)`);
  const supersede = db.prepare(`UPDATE enrollments SET status = 'superseded' WHERE id = ?`);
  const link = db.prepare(`UPDATE enrollments SET superseded_by = ? WHERE id = ?`);
  db.prepare(
    `INSERT INTO bundles (id, created_at, file, enrollments, written_at)
    VALUES ('b1', ?, 'f', 1, ?)`,
  ).run(T0, T0);
  const carry = db.prepare(`INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256)
    VALUES ('b1', ?, ?)`);
  for (const [serial, attestation, runs] of DEVICES) {
    const deviceId = Number(device.run(serial, T0).lastInsertRowid);
    let earlier: number | undefined;
    for (const [registrationId, attempts] of runs) {
      const runId = Number(run.run(T0, T0, deviceId, registrationId).lastInsertRowid);
      if (earlier !== undefined) supersede.run(earlier);
      const id = Number(
        enroll.run(registrationId, deviceId, runId, attestation, attempts, T0, T0).lastInsertRowid,
      );
      if (earlier !== undefined) link.run(id, earlier);
      if (serial === 'changed-bundled' && earlier === undefined) carry.run(id, 'a'.repeat(64));
      earlier = id;
    }
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
      { id: 'old-5', retirement: 'due', at: null },
      { id: 'old-5', retirement: null, at: null },
      { id: 'old-6', retirement: null, at: null },
      { id: 'new-6', retirement: null, at: null },
      { id: 'old-7', retirement: null, at: null },
    ]);
    // The worker's question is answered by the partial index, not by reading history.
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT id FROM enrollments WHERE retirement = 'due'`)
      .all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join()).toContain('enrollments_retirement_due');
    // And a PASS takes its ID out of retirement by a seek, not by reading every due row.
    const clear = db.prepare(`EXPLAIN QUERY PLAN ${CLEAR_RETIREMENTS_SQL}`).all('x') as {
      detail: string;
    }[];
    expect(clear.map((step) => step.detail).join()).toContain(
      'enrollments_retirement_due_by_registration_id (registration_id=?)',
    );
    db.close();

    // Opened again, the step is not run again: a settled row stays settled, and a row that
    // would qualify now (old-2, sent since) is left to the commits' rule.
    const settled = openStationDatabase(databaseFile());
    settled
      .prepare(`UPDATE enrollments SET retirement = 'disabled', retired_at = ? WHERE id = 1`)
      .run(T0);
    settled.prepare(`UPDATE enrollments SET attempts = 1 WHERE registration_id = 'old-2'`).run();
    settled.close();
    const again = openStationDatabase(databaseFile());
    const of = again.prepare(`SELECT retirement FROM enrollments WHERE registration_id = ?`);
    expect(of.pluck().get('old-1')).toBe('disabled');
    expect(of.pluck().get('old-2')).toBeNull();
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
