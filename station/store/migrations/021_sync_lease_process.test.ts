import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-021-');

/** A version-20 file whose sync lease an older station's worker holds. */
function version20Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 20));
  db.prepare(`INSERT INTO sync_lease VALUES (1, 'older worker', 'line-7', 4242, 1000)`).run();
  db.close();
}

describe("migration 021: the sync lease holder's boot and process start", () => {
  it('keeps the lease of an older station as it was, with no boot or start known for it', () => {
    version20Database();
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(
        db
          .prepare(
            `SELECT l.holder, l.host, l.pid, l.renewed_at, p.boot, p.started
             FROM sync_lease l LEFT JOIN sync_lease_process p ON p.holder = l.holder`,
          )
          .all(),
      ).toEqual([
        {
          holder: 'older worker',
          host: 'line-7',
          pid: 4242,
          renewed_at: 1000,
          boot: null,
          started: null,
        },
      ]);
      // The lease row keeps the shape older stations write, positional inserts included.
      db.prepare(`INSERT OR REPLACE INTO sync_lease VALUES (1, 'w', 'line-7', 1, 2000)`).run();
    } finally {
      db.close();
    }
  });

  it('holds one row per holder, whose boot and start may be unknown', () => {
    const db = openStationDatabase(databaseFile());
    try {
      const put = db.prepare(
        `INSERT INTO sync_lease_process (holder, boot, started) VALUES (?, ?, ?)`,
      );
      put.run('a', 'boot-1', '12345');
      put.run('b', null, null);
      expect(() => put.run('a', 'boot-2', '1')).toThrow(/UNIQUE|PRIMARY KEY/);
    } finally {
      db.close();
    }
  });
});
