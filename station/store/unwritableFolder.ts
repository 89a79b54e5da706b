import { accessSync, constants, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StoreError } from './storeError.js';

/** What the file system says when a path cannot be written, and the fix is a supervisor's. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * A file the station writes and the folder it is in, as the operator text names them: what
 * cannot be written there, and what follows once a supervisor fixed it.
 */
export interface WrittenPlace {
  /** The file; its folder is the one asked about first. */
  file: string;
  /** How the text names the folder and the file: `The station data folder`, `The station database`. */
  folderName: string;
  fileName: string;
  /** What the station cannot write there: `its database`, `its log`. */
  writes: string;
  /** What ends the fix's sentence: `, then restart the station.` */
  afterFix: string;
}

/** Why a place cannot be written: the operator text, and the file system's refusal that says so. */
export interface UnwritableDiagnosis {
  message: string;
  refusal: NodeJS.ErrnoException;
}

/**
 * Says which folder or file keeps the station from writing `place.file`, and why, when that is
 * the cause: SQLite says only "unable to open database file", and Node's recursive mkdir says
 * ENOENT on a read-only mount, which sends a supervisor to look for a missing folder. The file
 * system knows: a read-only disk or mount (EROFS) or no write permission for this user
 * (EACCES). Asked only once a write has failed, so a station that writes pays nothing.
 *
 * @returns the folder (or file) and what to do, or undefined when the folder and file can be
 *   written (the refusal had another cause).
 */
export function diagnoseUnwritable(place: WrittenPlace): UnwritableDiagnosis | undefined {
  const folder = dirname(place.file);
  // The folder first: on a read-only disk the file is too, and the folder is what to fix.
  const existing = nearestExisting(folder);
  const folderWhy = existing === undefined ? undefined : whyUnwritable(existing);
  if (existing !== undefined && folderWhy !== undefined) {
    const where =
      existing === folder
        ? `${place.folderName} ${folder}`
        : `${place.folderName} ${folder} cannot be created: ${existing}, where it would be,`;
    return { message: `${where} ${cause(folderWhy.code, 'folder', place)}`, refusal: folderWhy };
  }
  const fileWhy = existsSync(place.file) ? whyUnwritable(place.file) : undefined;
  if (fileWhy === undefined) return undefined;
  const message = `${place.fileName} ${place.file} ${cause(fileWhy.code, 'file', place)}`;
  return { message, refusal: fileWhy };
}

/**
 * Says which folder or file kept the station from opening its database for writing, and why
 * (diagnoseUnwritable), when SQLite refused to open or write it.
 *
 * @returns STORE_READ_ONLY naming the folder (or file) and what to do, or undefined when the
 *   folder and file can be written (the refusal had another cause) or were not the problem.
 */
export function unwritableStoreError(path: string, refused: StoreError): StoreError | undefined {
  if (refused.code !== 'STORE_OPEN_FAILED' && refused.code !== 'STORE_READ_ONLY') return undefined;
  const unwritable = diagnoseUnwritable({
    file: path,
    folderName: 'The station data folder',
    fileName: 'The station database',
    writes: 'its database',
    afterFix: ', then restart the station.',
  });
  if (unwritable === undefined) return undefined;
  const detail = `${refused.detail ?? `open ${path}`}; ${unwritable.refusal.message}`;
  return new StoreError('STORE_READ_ONLY', detail, { cause: refused, message: unwritable.message });
}

/** The operator text for one cause: what is wrong and what a supervisor does about it. */
function cause(code: string | undefined, what: 'folder' | 'file', place: WrittenPlace): string {
  if (code === 'EROFS') {
    return `is on a read-only disk or mount, so the station cannot write ${place.writes} there. A supervisor must make that disk writable again (remount it read-write; a disk the system switched to read-only after errors must be checked first), or start the station on a writable data folder (--data-dir or LINE_STATION_DATA)${place.afterFix}`;
  }
  return `is read-only for the user the station runs as (${userName()}): that user may not write to it, so the station cannot write ${place.writes} there. A supervisor must give that user write permission on the ${what} (its owner or mode), or start the station as the user that owns it${place.afterFix}`;
}

/** Why `path` cannot be written, or undefined when it can (or the reason is none of ours). */
function whyUnwritable(path: string): NodeJS.ErrnoException | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && UNWRITABLE.has(code) ? (err as NodeJS.ErrnoException) : undefined;
  }
}

/** `folder`, or its nearest ancestor that exists: the one whose refusal kept it from being made. */
function nearestExisting(folder: string): string | undefined {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The user name and id, as a supervisor checks them against the folder's owner. */
function userName(): string {
  const uid = process.getuid?.();
  try {
    const { username } = userInfo();
    return uid === undefined ? username : `${username}, uid ${uid}`;
  } catch {
    // A uid with no entry in the user database (a container, a systemd DynamicUser).
    return uid === undefined ? 'unknown user' : `uid ${uid}`;
  }
}
