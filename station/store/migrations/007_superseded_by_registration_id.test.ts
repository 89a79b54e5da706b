import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OutboxSyncStore, SUPERSEDED_SQL } from '../../sync/outboxSyncStore.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-007-');

const T0 = '2026-03-01T10:00:00.000Z';
const REWORKS = 30;

/**
 * A version-6 file in which two devices were each re-provisioned REWORKS times under one
 * registration ID (each PASS superseding the one before, every row sent once).
 */
function version6Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 6));
  const device = db.prepare(
    `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, attempts, created_at, updated_at) VALUES (?, ?, ?, 'tpm', '{}', 1, ?, ?)`);
  // Superseded before its successor is inserted, then linked to it, as the store commits.
  const supersede = db.prepare(`UPDATE enrollments SET status = 'superseded' WHERE id = ?`);
  const link = db.prepare(`UPDATE enrollments SET superseded_by = ? WHERE id = ?`);
  for (const serial of ['SN-1', 'SN-2']) {
    const deviceId = Number(device.run(serial, T0).lastInsertRowid);
    const registrationId = serial.toLowerCase();
    let live: number | undefined;
    for (let i = 0; i < REWORKS; i++) {
      const runId = Number(run.run(T0, T0, deviceId, registrationId).lastInsertRowid);
      if (live !== undefined) supersede.run(live);
      const id = Number(enroll.run(registrationId, deviceId, runId, T0, T0).lastInsertRowid);
      if (live !== undefined) link.run(id, live);
      live = id;
    }
  }
  db.close();
}

describe('migration 007: superseded enrollments by registration ID', () => {
  it("finds a reworked device's earlier enrollments, newest first, after the upgrade", () => {
    version6Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const earlier = new OutboxSyncStore(db, () => Date.parse(T0)).superseded('SN-2');
    expect(earlier).toHaveLength(REWORKS - 1);
    expect(earlier.every((row) => row.registrationId === 'sn-2')).toBe(true);
    const ids = earlier.map((row) => row.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    db.close();
  });

  it('the lookup reads that registration ID through the new index', () => {
    version6Database();
    const db = openStationDatabase(databaseFile());
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${SUPERSEDED_SQL}`).all('SN-1') as {
      detail: string;
    }[];
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toContain('enrollments_superseded_by_registration_id (registration_id=?)');
    expect(details).not.toContain('enrollments_by_status');
    db.close();
  });
});
