import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-006-');

describe('migration 006: the sync lease', () => {
  it('adds an empty lease table to a version-5 file, whose outbox it leaves as it was', () => {
    const db = new Database(databaseFile());
    migrate(db, migrations.slice(0, 5));
    db.prepare(
      `INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('SN-1', 'm', 't')`,
    ).run();
    db.close();

    const upgraded = openStationDatabase(databaseFile());
    expectLatestSchema(upgraded);
    expect(upgraded.prepare('SELECT count(*) AS n FROM sync_lease').get()).toEqual({ n: 0 });
    expect(upgraded.prepare('SELECT count(*) AS n FROM devices').get()).toEqual({ n: 1 });
    upgraded.close();
  });

  it('holds one lease at most', () => {
    const db = openStationDatabase(databaseFile());
    const take = db.prepare(
      `INSERT INTO sync_lease (id, holder, host, pid, renewed_at) VALUES (?, 'a', 'h', 1, 0)`,
    );
    take.run(1);
    expect(() => take.run(1)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => take.run(2)).toThrow(/CHECK/);
    db.close();
  });
});
