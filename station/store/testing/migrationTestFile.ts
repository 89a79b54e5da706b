/** What each migration test needs: a fresh database file per test, and the latest schema's shape. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect } from 'vitest';
import { migrations } from '../migrations/index.js';
import { migrate } from '../stationDatabase.js';

/** Registers a new temporary folder per test; returns the path of the database file in it. */
export function useMigrationTestFile(prefix: string): () => string {
  let dir: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error('useMigrationTestFile: only inside a test');
    return join(dir, 'station.db');
  };
}

/**
 * A database left by an older station: the first `applied` migrations, and one run that failed
 * before the next migration existed (id 1). Closed again, for the test to reopen at the latest.
 */
export function olderDatabaseWithOneFailedRun(file: string, applied: number): void {
  const old = new Database(file);
  migrate(old, migrations.slice(0, applied));
  old
    .prepare(
      `INSERT INTO runs (port, profile, started_at, state, finished_at, error_code)
       VALUES ('/dev/ttyUSB0', 'x', '2026-12-05T10:00:00.000Z', 'fail', '2026-12-05T10:00:01.000Z', 'WIRE_TIMEOUT')`,
    )
    .run();
  old.close();
}

/** The database is at the latest version, reached through every migration in order. */
export function expectLatestSchema(db: Database.Database): void {
  expect(db.pragma('user_version', { simple: true })).toBe(25);
  expect(migrations.map((m) => m.name)).toEqual([
    'certificates',
    'provisioning',
    'sync',
    'outbox_counts',
    'live_enrollments_by_device',
    'sync_lease',
    'superseded_by_registration_id',
    'run_owners',
    'history_by_time',
    'run_starts',
    'bundles',
    'attestation_evidence',
    'runs_by_state',
    'run_dps_settings',
    'run_operator_names',
    'reopen_unconfirmed_group_members',
    'superseded_retirement',
    'bundle_retirements',
    'retire_under_group_members',
    'bundles_lost',
    'sync_lease_process',
    'revocation_disables',
    'run_owner_start',
    'runs_by_profile',
    'bundle_dps_host',
  ]);
}
