import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { passedRun, recordIssuedCertificate } from '../testing/provisioningFixtures.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-022-');

const T0 = '2026-03-01T10:00:00.000Z';

describe('migration 022: enrollments disabled in DPS for a revoked certificate', () => {
  it('adds an empty table whose rows start due and settle with a time', () => {
    const before = new Database(databaseFile());
    before.pragma('foreign_keys = ON');
    migrate(before, migrations.slice(0, 21));
    before.close();

    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(db.prepare(`SELECT count(*) FROM revocation_disables`).pluck().get()).toBe(0);
      const store = new ProvisioningStore(db);
      const runId = store.beginRun('/dev/ttyUSB0', 'line7', 1_000);
      recordIssuedCertificate(db, `c-${runId}`, 'reg-sn1');
      const enrollment = store.commitPass(passedRun(runId, 'SN1'));
      const add = db.prepare(`INSERT INTO revocation_disables
        (enrollment_id, certificate_serial, created_at) VALUES (?, ?, ?)`);
      add.run(enrollment, `c-${runId}`, T0);
      expect(db.prepare(`SELECT state, tries, settled_at FROM revocation_disables`).get()).toEqual({
        state: 'due',
        tries: 0,
        settled_at: null,
      });
      // Only an outbox row; settled with a time, due without one; one of four states.
      expect(() => add.run(enrollment + 100, 'c-x', T0)).toThrow(/FOREIGN KEY/);
      const settle = db.prepare(`UPDATE revocation_disables SET state = ?, settled_at = ?`);
      expect(() => settle.run('disabled', null)).toThrow(/CHECK/);
      expect(() => settle.run('gone', T0)).toThrow(/CHECK/);
      expect(settle.run('disabled', T0).changes).toBe(1);
      expect(() => settle.run('due', T0)).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});
