import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreError } from './storeError.js';

/** Which file a path named when the database was opened. */
interface FileIdentity {
  dev: number;
  ino: number;
}

/** The files SQLite keeps open for a WAL database. */
const SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * The station database's files as they were when it was opened. SQLite writes through the file
 * descriptors it opened, so a database deleted under the running station (a mistaken `rm -rf`, a
 * cleanup script, a backup restored over it) takes every later commit into a file no one can
 * open again: the slot shows PASS, and the PASS is gone at the next start. SQLite does not notice
 * in WAL mode; checking the paths still name the same files before a write does.
 *
 * -wal and -shm count as well: a commit in a deleted WAL is lost at a crash, and a second process
 * that creates a new -shm beside a deleted one works from another index of the same WAL.
 */
class DatabaseFiles {
  private readonly known = new Map<string, FileIdentity>();

  constructor(private readonly path: string) {
    for (const suffix of SUFFIXES) {
      const id = identityOf(path + suffix);
      if (id) this.known.set(suffix, id);
    }
  }

  /** Throws STORE_DATABASE_MOVED when a path no longer names the file the station writes to. */
  check(): void {
    for (const suffix of SUFFIXES) {
      const file = this.path + suffix;
      const now = identityOf(file);
      const then = this.known.get(suffix);
      if (now === undefined) {
        // The WAL and its index exist as long as this connection is open, so missing means gone;
        // only a file that never was (a database opened but not yet read) may still be missing.
        if (then !== undefined || suffix === '') throw moved(`${file} was deleted`);
      } else if (then === undefined) {
        this.known.set(suffix, now);
      } else if (now.dev !== then.dev || now.ino !== then.ino) {
        throw moved(`${file} was replaced by another file`);
      }
    }
  }
}

function identityOf(file: string): FileIdentity | undefined {
  try {
    const { dev, ino } = statSync(file);
    return { dev, ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // ENOTDIR (the folder became a file), EACCES…: the path no longer leads to our file.
    throw new StoreError('STORE_IO_FAILED', `${file}: ${(err as Error).message}`, { cause: err });
  }
}

function moved(detail: string): StoreError {
  return new StoreError('STORE_DATABASE_MOVED', `${detail} while the station had it open`);
}

const watched = new WeakMap<Database.Database, DatabaseFiles>();

/** Remembers which files `path` names now, for checkDatabaseFiles. Call right after opening. */
export function watchDatabaseFiles(db: Database.Database, path: string): void {
  watched.set(db, new DatabaseFiles(path));
}

/**
 * Throws STORE_DATABASE_MOVED (or STORE_IO_FAILED) when the database's files were deleted or
 * replaced since it was opened. A database that is not watched (`:memory:`, one a test opened
 * itself) passes. Three stat calls: cheap beside the fsync of the commit it guards.
 */
export function checkDatabaseFiles(db: Database.Database): void {
  watched.get(db)?.check();
}

/** The mode of the database's files: every device's record, for the station's user alone. */
export const DATABASE_FILE_MODE = 0o600;

/**
 * Creates the database file 0600 if it is not there, and narrows it and a WAL or index left
 * beside it, as the rest of the data folder is. SQLite creates the WAL and its index with the
 * mode of the database file (whatever the umask), so a file made 0600 keeps both 0600; one made
 * 0644 by an earlier version, or copied in by hand, is narrowed here. A file of another owner
 * (EPERM) is left as it is, and a folder that cannot be written (EROFS, EACCES) is left for the
 * open to refuse, naming the folder (unwritableFolder.ts).
 */
export function narrowDatabaseFiles(path: string): void {
  if (process.platform === 'win32') return;
  try {
    closeSync(openSync(path, 'wx', DATABASE_FILE_MODE));
  } catch (err) {
    if (!LEFT_AS_IT_IS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  for (const suffix of SUFFIXES) {
    try {
      chmodSync(path + suffix, DATABASE_FILE_MODE);
    } catch (err) {
      if (!LEFT_AS_IT_IS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
}

/** Why a file's mode is left as it is: not there, already there, another's, or not writable. */
const LEFT_AS_IT_IS = new Set(['ENOENT', 'EEXIST', 'EPERM', 'EACCES', 'EROFS']);
