import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../provisioningStore.js';
import { openStationDatabase } from '../stationDatabase.js';
import {
  expectLatestSchema,
  olderDatabaseWithOneFailedRun,
  useMigrationTestFile,
} from '../testing/migrationTestFile.js';

const databaseFile = useMigrationTestFile('migration-010-');

describe('migration 010: who started each run', () => {
  it('keeps the old runs with no starter, and records it for every new run', () => {
    olderDatabaseWithOneFailedRun(databaseFile(), 9);

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
