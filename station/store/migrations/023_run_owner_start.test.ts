import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../provisioningStore.js';
import { processStartTicks, thisProcess } from '../runOwner.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-023-');

/** A version-22 file with a run that a station of this host, still running, has open. */
function version22Database(pid: number): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 22));
  const { host, boot } = thisProcess();
  db.prepare(
    `INSERT INTO runs (port, profile, started_at, owner_host, owner_pid, owner_token, owner_boot)
    VALUES ('/dev/ttyUSB0', 'x', ?, ?, ?, 'the-other-station', ?)`,
  ).run(new Date().toISOString(), host, pid, boot ?? null);
  db.close();
}

describe('migration 023: when the process that opened a run started', () => {
  it('records none for the runs before, which are judged as before, and one for each new run', () => {
    version22Database(process.ppid);
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(db.prepare(`SELECT state, owner_start FROM runs WHERE id = 1`).get()).toEqual({
        state: 'running',
        owner_start: null,
      });
      const store = new ProvisioningStore(db);
      // Its process still runs, and no start tells it from another: left open, as before.
      expect(store.closeInterruptedRuns().closed).toEqual([]);
      expect(db.prepare(`SELECT state FROM runs WHERE id = 1`).pluck().get()).toBe('running');

      const runId = store.beginRun('/dev/ttyUSB1', 'x', Date.now());
      expect(db.prepare(`SELECT owner_start FROM runs WHERE id = ?`).pluck().get(runId)).toBe(
        processStartTicks(process.pid) ?? null,
      );
    } finally {
      db.close();
    }
  });
});
