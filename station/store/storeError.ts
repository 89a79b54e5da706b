/**
 * Refusals of the station store. Each carries a stable code, operator text saying what to do, and
 * a detail for the log. Codes never change meaning; new cases get new codes.
 */
export const storeErrorText = {
  STORE_CERTIFICATE_STATE:
    'The certificate for this device is not in the state the station expects. Set the device aside and call engineering.',
  STORE_ENROLLMENT_BUSY:
    'The earlier enrollment of this device is being sent to DPS right now. Retry in a minute.',
  STORE_DUPLICATE_ENROLLMENT:
    'Another device already holds this registration ID. Set the device aside and check the profile.',
  STORE_EK_ON_ANOTHER_DEVICE:
    "This TPM's endorsement key is recorded for another device. A TPM belongs to one board: set the device aside and call engineering.",
  STORE_EARLIER_PASS_CHANGED:
    'This device was provisioned again meanwhile, maybe on another slot. Check the device and retry.',
  STORE_RUN_NOT_RUNNING:
    'This run has already ended in the station record. Retry the device; if it repeats, call engineering.',
  STORE_RECORD_INVALID:
    'The station refused to record an incomplete or unsafe result. Set the device aside and call engineering.',
  STORE_WRITE_FAILED:
    'The station could not save the result. Check disk space, then retry the device.',
  STORE_READ_FAILED:
    'The station could not read its database. Retry; if it repeats, a supervisor must check the disk of the station data folder.',
  STORE_READ_ONLY:
    'The station database cannot be written: its file or folder is read-only, or the disk was switched to read-only after errors. A supervisor must fix the station data folder, then restart the station.',
  STORE_IO_FAILED:
    'The disk holding the station database reported an error. A supervisor must check that disk and the station data folder, then restart the station.',
  STORE_OPEN_FAILED:
    'The station cannot open its database file. A supervisor must check that the station data folder exists and that the station may read and write it, then restart the station.',
  STORE_BUSY:
    "Another program holds the station database locked (a supervisor's station command, another station window, a backup or database tool), so the station could not save. It is no fault of the device or its cable: retry once that program has finished; if it repeats, a supervisor must find it and end it.",
  STORE_DATABASE_CORRUPT:
    'The station database is damaged or is not a station database. Stop the line and call engineering: the data folder must be restored from a backup.',
  STORE_DATABASE_MOVED:
    'The station database was deleted, moved or replaced while the station ran, so nothing more can be saved. Stop the station; a supervisor must put the data folder back, then restart.',
  STORE_SCHEMA_NEWER:
    'The station database is newer than this station software. Update the station software before using this data folder.',
} as const;

export type StoreErrorCode = keyof typeof storeErrorText;

/** An error thrown by the store: `{ code, message, detail }` like every error leaving the core. */
export class StoreError extends Error {
  /**
   * @param options.message the code's text said more precisely (which folder is read-only, and
   *   why); the code keeps its meaning.
   */
  constructor(
    readonly code: StoreErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(
      options?.message ?? storeErrorText[code],
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'StoreError';
  }

  toJSON(): { code: StoreErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Whether `err` is a lock refusal: STORE_BUSY, as the store's error or wrapped by the line. */
export function isStoreBusy(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'STORE_BUSY';
}

/** What an unrecognised refusal is taken for: where it happened (a write, a read, an open). */
type StoreFallback = 'STORE_WRITE_FAILED' | 'STORE_READ_FAILED' | 'STORE_OPEN_FAILED';

/**
 * The store code for what SQLite (or the file system under it) refused. SQLite's extended codes
 * (SQLITE_IOERR_WRITE, SQLITE_READONLY_DIRECTORY…) share their primary code's prefix, and each
 * class needs a different hand: free space, fix permissions, check the disk, restore a backup.
 * Anything else gets `fallback`: a station bug or a condition with no better advice.
 */
export function storeCodeOf(err: unknown, fallback: StoreFallback): StoreErrorCode {
  return recognisedStoreCode(err) ?? fallback;
}

/**
 * The store code of a refusal storeCodeOf recognises (a full disk, a lock, a read-only or
 * failing disk, a damaged file…); undefined for anything else, such as a constraint or an SQL
 * error: a station bug, which no advice about the disk would fix.
 */
export function recognisedStoreCode(err: unknown): StoreErrorCode | undefined {
  if (err instanceof StoreError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const is = (primary: string) => code === primary || code.startsWith(`${primary}_`);
  // Node's own errno codes, from the file system calls around SQLite (creating the folder).
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'STORE_WRITE_FAILED';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'STORE_READ_ONLY';
  if (code === 'EIO' || code === 'ENOTDIR') return 'STORE_IO_FAILED';
  if (is('SQLITE_FULL')) return 'STORE_WRITE_FAILED';
  if (is('SQLITE_READONLY') || is('SQLITE_PERM')) return 'STORE_READ_ONLY';
  if (is('SQLITE_CANTOPEN')) return 'STORE_OPEN_FAILED';
  if (is('SQLITE_IOERR')) return 'STORE_IO_FAILED';
  if (is('SQLITE_CORRUPT') || is('SQLITE_NOTADB')) return 'STORE_DATABASE_CORRUPT';
  if (is('SQLITE_BUSY') || is('SQLITE_LOCKED')) return 'STORE_BUSY';
  return undefined;
}

/** Any error as a StoreError with the code storeCodeOf gives; `what` leads its detail. */
export function toStoreError(
  err: unknown,
  what: string,
  fallback: StoreFallback = 'STORE_WRITE_FAILED',
): StoreError {
  if (err instanceof StoreError) return err;
  // SQLite's own texts ("database or disk is full") name no path, key or value of a row.
  const why = err instanceof Error ? err.message : String(err);
  return new StoreError(storeCodeOf(err, fallback), `${what}: ${why}`, { cause: err });
}

/**
 * Runs a store write and turns whatever SQLite throws into a StoreError, so the line engine can
 * fail the run with a code instead of crashing on a raw SqliteError (disk full, I/O error…).
 */
export function asStoreError<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw toStoreError(err, what);
  }
}

/** asStoreError for a read: what cannot be read is no "save" failure. */
export function asStoreRead<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw toStoreError(err, what, 'STORE_READ_FAILED');
  }
}

/** Whether `err` is better-sqlite3's SqliteError (its code starts with SQLITE_). */
export function isSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('SQLITE_');
}
