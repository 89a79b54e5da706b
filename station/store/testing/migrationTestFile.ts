/** What each migration test needs: a fresh database file per test, and the latest schema's shape. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, expect } from 'vitest';
import { migrations } from '../migrations/index.js';

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

/** The database is at the latest version, reached through every migration in order. */
export function expectLatestSchema(db: Database.Database): void {
  expect(db.pragma('user_version', { simple: true })).toBe(13);
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
  ]);
}
