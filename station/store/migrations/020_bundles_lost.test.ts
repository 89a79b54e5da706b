import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-020-');

const T0 = '2026-03-01T10:00:00.000Z';

/** A version-19 file with a bundle written to its stick and one whose export stopped. */
function version19Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 19));
  const bundle = db.prepare(`INSERT INTO bundles (id, created_at, file, enrollments, written_at)
    VALUES (?, ?, ?, 1, ?)`);
  bundle.run('written', T0, '/media/stick/a.bundle', T0);
  bundle.run('never-written', T0, '/media/stick/b.bundle', null);
  db.close();
}

describe('migration 020: a bundle may be declared lost', () => {
  it('keeps every bundle as it was, not lost, and takes a declaration on a written one only', () => {
    version19Database();
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(
        db.prepare(`SELECT id, written_at, lost_at, lost_by FROM bundles ORDER BY rowid`).all(),
      ).toEqual([
        { id: 'written', written_at: T0, lost_at: null, lost_by: null },
        { id: 'never-written', written_at: null, lost_at: null, lost_by: null },
      ]);
      const declare = db.prepare(`UPDATE bundles SET lost_at = ?, lost_by = ? WHERE id = ?`);
      expect(declare.run(T0, 'Ana', 'written').changes).toBe(1);
      // A bundle never written carries nothing to lose; a declaration names who made it.
      expect(() => declare.run(T0, 'Ana', 'never-written')).toThrow(/CHECK/);
      expect(() =>
        db.prepare(`UPDATE bundles SET lost_by = NULL WHERE id = 'written'`).run(),
      ).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});
