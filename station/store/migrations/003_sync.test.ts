import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migration001Certificates } from './001_certificates.js';
import { migration002Provisioning } from './002_provisioning.js';

const databaseFile = useMigrationTestFile('migration-003-');

const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-02T11:00:00.000Z';

/** A version-2 database holding one enrollment per status, as a station before the worker had. */
function version2Database(): void {
  const db = new Database(databaseFile());
  migrate(db, [migration001Certificates, migration002Provisioning]);
  const statuses = ['pending', 'syncing', 'synced', 'failed', 'conflict', 'superseded'];
  statuses.forEach((status, i) => {
    const device = db
      .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`)
      .run(`SN${i}`, T0).lastInsertRowid;
    const run = db
      .prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('p', 'x', ?)`)
      .run(T0).lastInsertRowid;
    db.prepare(
      `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body, status,
        attempts, last_error, etag, created_at, updated_at)
      VALUES (?, ?, ?, 'tpm', '{"registrationId":"x"}', ?, 2, 'old error', 'e', ?, ?)`,
    ).run(`dev-${status}`, device, run, status, T0, T1);
  });
  db.close();
}

describe('migration 003: sync', () => {
  it('migrates existing rows, keeping what they held', () => {
    version2Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const rows = db
      .prepare(
        `SELECT status, attempts, last_error AS lastError, etag, updated_at AS updatedAt,
          next_attempt_at AS nextAttemptAt, needs_reconcile AS needsReconcile,
          synced_at AS syncedAt, last_error_code AS lastErrorCode, dps_error AS dpsError,
          dps_record AS dpsRecord, sync_note AS syncNote
        FROM enrollments ORDER BY id`,
      )
      .all() as Record<string, unknown>[];
    const kept = { attempts: 2, lastError: 'old error', etag: 'e', updatedAt: T1 };
    const fresh = {
      nextAttemptAt: null,
      lastErrorCode: null,
      dpsError: null,
      dpsRecord: null,
      syncNote: null,
    };
    expect(rows).toEqual([
      { status: 'pending', ...kept, ...fresh, needsReconcile: 0, syncedAt: null },
      // Its fate in DPS is unknown: the worker must read DPS before sending it again.
      { status: 'syncing', ...kept, ...fresh, needsReconcile: 1, syncedAt: null },
      { status: 'synced', ...kept, ...fresh, needsReconcile: 0, syncedAt: T1 },
      { status: 'failed', ...kept, ...fresh, needsReconcile: 0, syncedAt: null },
      { status: 'conflict', ...kept, ...fresh, needsReconcile: 0, syncedAt: null },
      { status: 'superseded', ...kept, ...fresh, needsReconcile: 0, syncedAt: null },
    ]);
    db.close();
  });

  it('checks the new columns and indexes due pending rows', () => {
    const db = openStationDatabase(databaseFile());
    version2Rows(db);
    const set = (sql: string) => () => db.prepare(`UPDATE enrollments SET ${sql}`).run();
    expect(set(`needs_reconcile = 2`)).toThrow(/CHECK/);
    expect(set(`needs_reconcile = NULL`)).toThrow(/NOT NULL/);
    expect(set(`dps_error = '{'`)).toThrow(/CHECK/);
    expect(set(`dps_record = 'x'`)).toThrow(/CHECK/);
    expect(set(`next_attempt_at = x'00'`)).toThrow(/cannot store BLOB value in TEXT column/);
    set(`dps_error = '{"status":400}', dps_record = '{}', next_attempt_at = '${T1}'`)();
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM enrollments WHERE status = 'pending'
          AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT 10`,
      )
      .all(T1) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING (COVERING )?INDEX enrollments_/);
    db.close();
  });
});

function version2Rows(db: Database.Database): void {
  const device = db
    .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('S', 'm', ?)`)
    .run(T0).lastInsertRowid;
  const run = db
    .prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('p', 'x', ?)`)
    .run(T0).lastInsertRowid;
  db.prepare(
    `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body, created_at,
      updated_at) VALUES ('r', ?, ?, 'tpm', '{}', ?, ?)`,
  ).run(device, run, T0, T0);
}
