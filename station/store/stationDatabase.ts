import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrations, type Migration } from './migrations/index.js';

/**
 * Opens (creating if needed) the station's SQLite database and brings its schema up to date.
 * WAL with synchronous=FULL: every committed transaction is on disk before the call returns,
 * which is what lets a slot show PASS only after its commit.
 */
export function openStationDatabase(
  path: string,
  options: { migrations?: readonly Migration[] } = {},
): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // A REPLACE conflict resolution deletes the row it displaces; with recursive triggers on, that
  // delete fires the DELETE triggers too, so the outbox counters (migration 004) stay exact and
  // the audit trail's refusals (002) hold whatever conflict clause a statement uses.
  db.pragma('recursive_triggers = ON');
  migrate(db, options.migrations ?? migrations);
  return db;
}

/**
 * Applies the migrations above the database's user_version, each in its own transaction. Each
 * takes the write lock first and reads the version again under it: two processes opening the
 * same file at once (`station serve` and a supervisor's `station queue stats`) would otherwise
 * both run the same migration, and the second would fail.
 */
export function migrate(db: Database.Database, list: readonly Migration[]): number {
  const latest = list.length;
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration ${migration.name} is out of order`);
    }
  });
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  const current = version();
  if (current > latest) {
    throw new Error(
      `the station database is at schema version ${current}, newer than this station (${latest}); update the station software`,
    );
  }
  const apply = db.transaction((migration: Migration) => {
    if (version() >= migration.version) return;
    migration.up(db);
    db.pragma(`user_version = ${migration.version}`);
  });
  for (const migration of list.slice(current)) apply.immediate(migration);
  return latest;
}
