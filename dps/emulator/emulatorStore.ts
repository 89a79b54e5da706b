import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The emulator's storage: one better-sqlite3 database, `:memory:` or a file (WAL). Records are
 * JSON text keyed by their lower-case id (DPS ids are case-insensitive), with the etag and, for
 * registration states, the enrollment group in indexed columns. The service key, ID scope and TLS
 * material live in `settings`, so a restarted emulator keeps its connection string.
 */

/** The tables that hold DPS records. */
export type RecordTable = 'enrollments' | 'enrollment_groups' | 'registrations';

export interface StoredRow<T> {
  /** Lower-case id. */
  id: string;
  etag: string;
  record: T;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrollments (
  id TEXT PRIMARY KEY, etag TEXT NOT NULL, record TEXT NOT NULL, group_id TEXT);
CREATE TABLE IF NOT EXISTS enrollment_groups (
  id TEXT PRIMARY KEY, etag TEXT NOT NULL, record TEXT NOT NULL, group_id TEXT);
CREATE TABLE IF NOT EXISTS registrations (
  id TEXT PRIMARY KEY, etag TEXT NOT NULL, record TEXT NOT NULL, group_id TEXT);
CREATE INDEX IF NOT EXISTS registrations_by_group ON registrations (group_id, id);
CREATE TABLE IF NOT EXISTS create_counts (id TEXT PRIMARY KEY, count INTEGER NOT NULL);
`;

interface RawRow {
  id: string;
  etag: string;
  record: string;
}

export class EmulatorStore {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Opens (creating if needed) the store; a file store's folder is created too (0700). The file
   * holds the service key and the TLS key in clear, so it and its WAL are for this user alone.
   */
  static open(storage: 'memory' | { file: string }): EmulatorStore {
    let db: Database.Database;
    if (storage === 'memory') {
      db = new Database(':memory:');
    } else {
      mkdirSync(dirname(storage.file), { recursive: true, mode: 0o700 });
      narrowDatabaseFiles(storage.file);
      db = new Database(storage.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new Error(
        `The emulator database has schema version ${version}; this emulator knows ${SCHEMA_VERSION}.`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return new EmulatorStore(db);
  }

  getSetting(name: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE name = ?').get(name) as
      { value: string } | undefined;
    return row?.value;
  }

  setSetting(name: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      )
      .run(name, value);
  }

  get<T>(table: RecordTable, id: string): StoredRow<T> | undefined {
    const row = this.db
      .prepare(`SELECT id, etag, record FROM ${table} WHERE id = ?`)
      .get(id.toLowerCase()) as RawRow | undefined;
    return row && decode<T>(row);
  }

  /** Inserts or replaces a record; `groupId` indexes registration states by enrollment group. */
  put(table: RecordTable, id: string, etag: string, record: unknown, groupId?: string): void {
    this.db
      .prepare(
        `INSERT INTO ${table} (id, etag, record, group_id) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET etag = excluded.etag, record = excluded.record,
         group_id = excluded.group_id`,
      )
      .run(id.toLowerCase(), etag, JSON.stringify(record), groupId?.toLowerCase() ?? null);
  }

  delete(table: RecordTable, id: string): boolean {
    return this.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id.toLowerCase()).changes > 0;
  }

  /** Up to `limit` rows with ids after `after`, in id order; optionally one group's only. */
  page<T>(
    table: RecordTable,
    after: string | undefined,
    limit: number,
    groupId?: string,
  ): StoredRow<T>[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (after !== undefined) {
      where.push('id > ?');
      params.push(after);
    }
    if (groupId !== undefined) {
      where.push('group_id = ?');
      params.push(groupId.toLowerCase());
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.db
      .prepare(`SELECT id, etag, record FROM ${table} ${clause} ORDER BY id LIMIT ?`)
      .all(...params, limit) as RawRow[];
    return rows.map((row) => decode<T>(row));
  }

  /** Every row of a table, in id order (the tables stay small: DPS caps groups at 100). */
  all<T>(table: RecordTable): StoredRow<T>[] {
    const rows = this.db
      .prepare(`SELECT id, etag, record FROM ${table} ORDER BY id`)
      .all() as RawRow[];
    return rows.map((row) => decode<T>(row));
  }

  count(table: RecordTable): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  /** Notes that an individual enrollment went from absent to present. */
  recordCreate(id: string): void {
    this.db
      .prepare(
        'INSERT INTO create_counts (id, count) VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET count = count + 1',
      )
      .run(id.toLowerCase());
  }

  createCounts(): Map<string, number> {
    const rows = this.db.prepare('SELECT id, count FROM create_counts ORDER BY id').all() as {
      id: string;
      count: number;
    }[];
    return new Map(rows.map((row) => [row.id, row.count]));
  }

  /** Runs `fn` in one transaction (better-sqlite3 transactions are synchronous). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function decode<T>(row: RawRow): StoredRow<T> {
  return { id: row.id, etag: row.etag, record: JSON.parse(row.record) as T };
}

/** The modes of the database's files: readable and writable by the emulator's user only. */
export const EMULATOR_FILE_MODE = 0o600;

/**
 * Creates the database file 0600 if it is not there, and narrows it and any WAL or index left
 * beside it: SQLite gives the WAL and its index the mode of the database file, so one made 0644
 * by an earlier version, or copied in by hand, would keep the keys readable by every user. A
 * file of another owner, which this user may not change, is left as it is rather than stop a
 * training tool; its owner narrows it.
 */
function narrowDatabaseFiles(file: string): void {
  if (process.platform === 'win32') return;
  if (!existsSync(file)) closeSync(openSync(file, 'a', EMULATOR_FILE_MODE));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, EMULATOR_FILE_MODE);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM') throw err;
    }
  }
}
