import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { OutboxCounts } from '../line/lineTypes.js';
import { migrations } from '../store/migrations/index.js';
import { OutboxListing } from '../store/outboxListing.js';
import { StoreError, toStoreError, type StoreErrorCode } from '../store/storeError.js';

/**
 * The bundles a data folder has synced, as `bundle list` shows them on the machine that reaches
 * DPS: one entry per work store (bundleWorkStore.ts) left under `<dataDir>/bundles/`. Only the
 * outbox counts are read: a work store holds sealed keys, and nothing else of it is shown.
 */

/** Why a work store could not be read: a store code and its text, as StoreError gives them. */
export interface WorkStoreProblem {
  code: StoreErrorCode;
  message: string;
  detail?: string;
}

/** One work store: what its file name says, and its counts or why they could not be read. */
export type BundleWorkListing = {
  bundleId: string;
  /**
   * The DPS host as the file name gives it back: lower case, no default port, and a port after
   * `:` as it is written (`127.0.0.1:8443`), though the file name holds it as `_8443`.
   */
  dpsHost: string;
  path: string;
  /** When the store last changed (ISO 8601); null when the file could not even be looked at. */
  modifiedAt: string | null;
} & ({ counts: OutboxCounts } | { error: WorkStoreProblem });

/** The folder bundleWorkStorePath puts every work store of `dataDir` in. */
export function bundleWorkFolder(dataDir: string): string {
  return join(dataDir, 'bundles');
}

/**
 * `<bundleId>@<host>.db`, as bundleWorkStorePath names a store. Loose on purpose: a file named
 * like a store is shown (with its error if it is none) rather than hidden. SQLite's side files
 * (`-wal`, `-shm`, `-journal`) end otherwise, and belong to the store beside them.
 */
const WORK_STORE_NAME = /^([^@]+)@([^@]+)\.db$/;

/**
 * The work stores under `<dataDir>/bundles/`, newest first; none when the folder is not there (a
 * data folder that never synced a bundle). A store that cannot be read is listed with its coded
 * error, so one damaged file does not hide the others. Files named otherwise are left out.
 */
export function listBundleWork(dataDir: string): BundleWorkListing[] {
  const folder = bundleWorkFolder(dataDir);
  const listings: BundleWorkListing[] = [];
  for (const name of namesIn(folder)) {
    const [, bundleId, dpsHost] = WORK_STORE_NAME.exec(name) ?? [];
    if (bundleId === undefined || dpsHost === undefined) continue;
    listings.push(examine(join(folder, name), bundleId, hostOfFileName(dpsHost)));
  }
  return listings.sort(newestFirst);
}

/**
 * The host part of a work store's name as a supervisor writes it. bundleWorkStorePath turns
 * every character a host name cannot hold into `_`, and in a host or host:port that is only the
 * `:` before the port: `127.0.0.1_8443` is shown as `127.0.0.1:8443`, the form the DPS
 * connection string and `bundle sync` use.
 */
function hostOfFileName(host: string): string {
  return host.replace(/_(\d{1,5})$/, ':$1');
}

function namesIn(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err; // unreadable, or not a folder: the supervisor must see it, not an empty list
  }
}

function examine(path: string, bundleId: string, dpsHost: string): BundleWorkListing {
  const named = { bundleId, dpsHost, path };
  let modifiedAt: string | null = null;
  try {
    // Looked at before the store is opened: reading it leaves a WAL of its own beside it.
    modifiedAt = lastChange(path);
    return { ...named, modifiedAt, counts: outboxCountsOf(path) };
  } catch (err) {
    const { code, message, detail } = toStoreError(err, `read ${path}`, 'STORE_READ_FAILED');
    return {
      ...named,
      modifiedAt,
      error: detail === undefined ? { code, message } : { code, message, detail },
    };
  }
}

/**
 * When the store last changed. A commit reaches the file itself only at a checkpoint, so a sync
 * running or cut short shows in the newer time of its WAL; an empty WAL (one a reader such as
 * this listing leaves) says nothing of the work, and does not count.
 */
function lastChange(path: string): string {
  let newest = statSync(path).mtimeMs;
  const wal = statSync(`${path}-wal`, { throwIfNoEntry: false });
  if (wal !== undefined && wal.size > 0) newest = Math.max(newest, wal.mtimeMs);
  return new Date(newest).toISOString();
}

function outboxCountsOf(path: string): OutboxCounts {
  const db = openAsItIs(path);
  try {
    return new OutboxListing(db).counts();
  } finally {
    db.close();
  }
}

/**
 * Opens a store to read it without writing to it, ever: a read-only connection of SQLite's own.
 * (openStationDatabaseToRead would take the writer's way for a file at another schema, or one its
 * read-only connection cannot open.) A listing must leave each store as it is: a newer station's
 * is not this one's to change, an older one is brought up to date by the `bundle sync` that goes
 * on with it.
 */
function openAsItIs(path: string): Database.Database {
  const version = schemaVersionOf(path);
  if (version > migrations.length) {
    throw new StoreError(
      'STORE_SCHEMA_NEWER',
      `${path} is at schema version ${version}; this station knows up to ${migrations.length}`,
    );
  }
  // What counts() reads (outbox_counts) is there since migration 004, and a work store is never
  // older than migration 011; a file with no such table is reported.
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000'); // as openStationDatabaseToRead: a sync may be committing
  return db;
}

/** Throws SQLite's own error (SQLITE_NOTADB…) for a file that is no database. */
function schemaVersionOf(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** Newest first; a file whose time is unknown last; then by path, so the order is stable. */
function newestFirst(a: BundleWorkListing, b: BundleWorkListing): number {
  const time = (w: BundleWorkListing) =>
    w.modifiedAt === null ? -Infinity : Date.parse(w.modifiedAt);
  return time(b) - time(a) || a.path.localeCompare(b.path);
}
