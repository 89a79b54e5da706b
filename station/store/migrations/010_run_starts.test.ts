import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../provisioningStore.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-010-');

describe('migration 010: who started each run', () => {
  it('keeps the old runs with no starter, and records it for every new run', () => {
    const old = new Database(databaseFile());
    migrate(old, migrations.slice(0, 9));
    old
      .prepare(
        `INSERT INTO runs (port, profile, started_at, state, finished_at, error_code)
         VALUES ('/dev/ttyUSB0', 'x', '2026-12-05T10:00:00.000Z', 'fail', '2026-12-05T10:00:01.000Z', 'WIRE_TIMEOUT')`,
      )
      .run();
    old.close();

    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const store = new ProvisioningStore(db);
    const pressed = store.beginRun('/dev/ttyUSB0', 'x', Date.now(), 'operator');
    const appeared = store.beginRun('/dev/ttyUSB0', 'x', Date.now(), 'auto');
    const starters = db.prepare('SELECT id, started_by AS startedBy FROM runs ORDER BY id').all();
    expect(starters).toEqual([
      { id: 1, startedBy: null },
      { id: pressed, startedBy: 'operator' },
      { id: appeared, startedBy: 'auto' },
    ]);
    expect(() => db.prepare(`UPDATE runs SET started_by = 'someone' WHERE id = 1`).run()).toThrow(
      /CHECK constraint failed/,
    );
    db.close();
  });
});
