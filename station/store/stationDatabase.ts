import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { narrowDatabaseFiles, watchDatabaseFiles } from './databaseFiles.js';
import { migrations, type Migration } from './migrations/index.js';
import { StoreError, toStoreError } from './storeError.js';
import { unwritableStoreError } from './unwritableFolder.js';

/**
 * Opens (creating if needed) the station's SQLite database and brings its schema up to date.
 * WAL with synchronous=FULL (and F_FULLFSYNC on macOS): every committed transaction is on disk
 * before the call returns, which is what lets a slot show PASS only after its commit.
 *
 * Whatever stops it throws a StoreError naming the file: STORE_DATABASE_CORRUPT (damaged, not a
 * database, a WAL that does not fit it), STORE_OPEN_FAILED, STORE_READ_ONLY, STORE_IO_FAILED,
 * STORE_WRITE_FAILED (disk full), STORE_SCHEMA_NEWER, STORE_BUSY.
 */
export function openStationDatabase(
  path: string,
  options: {
    migrations?: readonly Migration[];
    /**
     * Refuse (STORE_READ_ONLY) a database this process cannot write. SQLite opens a file it may
     * only read without a word, and a line would then fail every device at its first write; the
     * commands that only read the outbox leave it off, so a supervisor can read a read-only copy.
     */
    requireWritable?: boolean;
  } = {},
): Database.Database {
  const file = path !== ':memory:';
  let db: Database.Database | undefined;
  try {
    if (file) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      checkExistingFile(path);
      // 0600 like the rest of the folder; SQLite gives the WAL and its index the file's mode.
      narrowDatabaseFiles(path);
    }
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // macOS: fsync() there leaves the data in the drive's write cache, and a power cut loses a
    // commit a slot already showed as PASS. F_FULLFSYNC flushes it; elsewhere these do nothing.
    db.pragma('fullfsync = ON');
    db.pragma('checkpoint_fullfsync = ON');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // A REPLACE conflict resolution deletes the row it displaces; with recursive triggers on,
    // that delete fires the DELETE triggers too, so the outbox counters (migration 004) stay
    // exact and the audit trail's refusals (002) hold whatever conflict clause a statement uses.
    db.pragma('recursive_triggers = ON');
    migrate(db, options.migrations ?? migrations);
    if (options.requireWritable) probeWrite(db);
    if (file) watchDatabaseFiles(db, path);
    return db;
  } catch (err) {
    db?.close();
    // Which file it was, whatever refused: a station may be given another folder by mistake.
    // What did not come from SQLite or the file system (a native module built for another
    // runtime, a bug) is no store condition, and passes as it is.
    if (!(err instanceof StoreError)) {
      if (!fromSqliteOrFiles(err)) throw err;
      const refused = toStoreError(err, `open ${path}`, 'STORE_OPEN_FAILED');
      // SQLite cannot say why it may not write; the file system says which folder, and why.
      throw (file && unwritableStoreError(path, refused)) || refused;
    }
    throw new StoreError(err.code, `open ${path}: ${err.detail ?? err.message}`, { cause: err });
  }
}

/**
 * Whether closing folded the WAL into `station.db`; when not, `failure` is SQLite's reason if the
 * checkpoint failed (a full disk, an I/O error), and absent if a reader held the WAL.
 */
export interface WalFold {
  walFolded: boolean;
  failure?: string;
}

/**
 * Closes a station's database after folding its WAL into the file, and says whether that was
 * done. SQLite folds it only when the last connection closes, and a report open at that moment
 * reads through a read-only connection, which cannot: `station.db` alone would then lack every
 * device since the last checkpoint, and a backup of it would too. A report in the middle of a
 * read is waited for (busy_timeout); one that reads longer leaves the WAL for the next start.
 */
export function closeStationDatabase(db: Database.Database): WalFold {
  try {
    // A running station stops waiting for locks inside SQLite (storeLockWait.ts); its last
    // checkpoint, with nothing else left to serve, may wait for a report again.
    db.pragma('busy_timeout = 5000');
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return { walFolded: result?.busy === 0 };
  } catch (err) {
    // The close below still runs; the next start folds the WAL. The reason goes to the
    // supervisor: a full disk is not another command reading.
    return { walFolded: false, failure: (err as Error).message };
  } finally {
    db.close();
  }
}

/**
 * Opens an existing station database only to read it: what a supervisor's command that reports
 * (queue stats, runs, sync status) needs. A read-only connection never writes a WAL back into the
 * file, so the check a writer needs first (a full read of the file: about 0.7 s per 100,000
 * devices, every time) cannot protect anything here, and a report stays quick on a big station.
 * A file at an older schema than this station knows (it needs its migrations), or one the
 * read-only connection cannot open, takes the writer's way, with its checks and its codes.
 */
export function openStationDatabaseToRead(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    if (db.pragma('user_version', { simple: true }) === migrations.length) {
      watchDatabaseFiles(db, path);
      return db;
    }
  } catch (err) {
    if (!fromSqliteOrFiles(err)) throw err;
  }
  db?.close();
  return openStationDatabase(path);
}

/**
 * Checks a database that is already there before anything may write to it, through a read-only
 * connection: one that reads writes nothing back. A writable connection would fold its WAL into
 * the file at close, and a WAL left beside a database it does not belong to (a backup copied
 * over station.db, its old -wal kept) would then overwrite good pages for good; damage found
 * here leaves both files as they were, for engineering to rescue. quick_check reads every page
 * once: about a second for a station with 100,000 devices.
 */
function checkExistingFile(path: string): void {
  const size = sizeOf(path);
  if (size === undefined || size === 0) return;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const problems = (db.pragma('quick_check(5)') as { quick_check: string }[]).map(
      (row) => row.quick_check,
    );
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new StoreError('STORE_DATABASE_CORRUPT', problems.join('; '));
    }
  } finally {
    db.close();
  }
}

/** Writes the schema version as it is, and takes it back: SQLITE_READONLY if it cannot. */
function probeWrite(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const probe = db.transaction(() => {
    db.pragma(`user_version = ${version}`);
    throw new ProbeDone();
  });
  try {
    probe.immediate();
  } catch (err) {
    if (!(err instanceof ProbeDone)) throw err;
  }
}

/** Rolls the write probe back: nothing of it reaches the file. */
class ProbeDone extends Error {}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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
    throw new StoreError(
      'STORE_SCHEMA_NEWER',
      `the database is at schema version ${current}; this station knows up to ${latest}`,
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

/** An error SQLite (SQLITE_*) or a file-system call (an errno code such as ENOENT) raised. */
function fromSqliteOrFiles(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_') || /^E[A-Z]+$/.test(code));
}

/** What a supervisor reads when the station stopped without folding the WAL (closeStationDatabase). */
export function walLeftText(database: string, failure: string | undefined): string {
  const why =
    failure === undefined
      ? `Another command was reading ${database} as the station stopped`
      : `The station could not fold its -wal file into ${database} as it stopped (${failure}; check the disk that holds the data folder)`;
  return `${why}, so its -wal file keeps the latest devices until the next start: a backup now must copy station.db-wal with it.`;
}
