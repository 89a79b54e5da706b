import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OPEN_RUNS_SQL } from '../interruptedRuns.js';
import { OPENED_BEFORE_OWNERS } from './008_run_owners.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { thisProcess } from '../runOwner.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-008-');
const T0 = '2026-03-01T10:00:00.000Z';

/** A version-7 file holding a run a crash left open, and the certificate issued for it. */
function version7Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 7));
  db.prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('/dev/ttyUSB0', 'x', ?)`).run(
    T0,
  );
  db.prepare(
    `INSERT INTO certificates (serial_number, registration_id, subject,
    fingerprint_sha256, not_before, not_after, profile, key_source, certificate_der, issued_at)
    VALUES ('c1', 'reg-1', 'CN=reg-1', 'fp1', ?, ?, 'x', 'device', x'3000', ?)`,
  ).run(T0, T0, T0);
  db.close();
}

describe('migration 008: run owners', () => {
  it('keeps the old rows, marks the open run, and the next start closes it', () => {
    version7Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(db.prepare(`SELECT state, owner_host, owner_token FROM runs`).get()).toEqual({
      state: 'running',
      owner_host: null,
      owner_token: OPENED_BEFORE_OWNERS,
    });
    expect(db.prepare(`SELECT status, issued_for FROM certificates`).get()).toEqual({
      status: 'issued',
      issued_for: null,
    });

    const store = new ProvisioningStore(db);
    expect(store.closeInterruptedRuns().closed.map((run) => run.runId)).toEqual([1]);
    expect(db.prepare(`SELECT error_detail FROM runs WHERE id = 1`).pluck().get()).toBe(
      'closed at a later start: open when the station began to record owners',
    );
    // Nothing names the old certificate's run: it is left as it was.
    expect(db.prepare(`SELECT status FROM certificates`).pluck().get()).toBe('issued');

    const runId = store.beginRun('/dev/ttyUSB1', 'x', Date.parse(T0));
    const { host, pid, token, boot } = thisProcess();
    expect(
      db
        .prepare(`SELECT owner_host, owner_pid, owner_token, owner_boot FROM runs WHERE id = ?`)
        .get(runId),
    ).toEqual({ owner_host: host, owner_pid: pid, owner_token: token, owner_boot: boot ?? null });
    db.close();
  });

  it('reads only the open runs, through an index that holds them (this one, or 013 by state)', () => {
    version7Database();
    const db = openStationDatabase(databaseFile());
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${OPEN_RUNS_SQL}`).all() as { detail: string }[];
    const detail = plan.map((row) => row.detail).join('\n');
    expect(detail).toMatch(/USING INDEX (runs_open|runs_by_state \(state=\?\))/);
    expect(detail).not.toMatch(/TEMP B-TREE/);
    db.close();
  });
});
