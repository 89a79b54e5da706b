import { accessSync, constants, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StoreError } from './storeError.js';

/** What the file system says when a path cannot be written, and the fix is a supervisor's. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * Says which folder or file kept the station from opening its database for writing, and why,
 * when that is the cause: SQLite says only "unable to open database file" (it cannot create the
 * file, or the WAL and its index beside it) or "attempt to write a readonly database", which
 * sends a supervisor to check everything. The file system knows: a read-only disk or mount
 * (EROFS) or no write permission for this user (EACCES). Asked only once the open has failed,
 * so a station that opens pays nothing.
 *
 * @returns STORE_READ_ONLY naming the folder (or file) and what to do, or undefined when the
 *   folder and file can be written (the refusal had another cause) or were not the problem.
 */
export function unwritableStoreError(path: string, refused: StoreError): StoreError | undefined {
  if (refused.code !== 'STORE_OPEN_FAILED' && refused.code !== 'STORE_READ_ONLY') return undefined;
  const folder = dirname(path);
  // The folder first: on a read-only disk the file is too, and the folder is what to fix.
  const existing = nearestExisting(folder);
  const folderWhy = existing === undefined ? undefined : whyUnwritable(existing);
  if (existing !== undefined && folderWhy !== undefined) {
    const where =
      existing === folder
        ? `The station data folder ${folder}`
        : `The station data folder ${folder} cannot be created: ${existing}, where it would be,`;
    return readOnly(path, refused, folderWhy, `${where} ${cause(folderWhy.code, 'folder')}`);
  }
  const fileWhy = existsSync(path) ? whyUnwritable(path) : undefined;
  if (fileWhy === undefined) return undefined;
  return readOnly(
    path,
    refused,
    fileWhy,
    `The station database ${path} ${cause(fileWhy.code, 'file')}`,
  );
}

function readOnly(
  path: string,
  refused: StoreError,
  why: NodeJS.ErrnoException,
  message: string,
): StoreError {
  return new StoreError('STORE_READ_ONLY', `${refused.detail ?? `open ${path}`}; ${why.message}`, {
    cause: refused,
    message,
  });
}

/** The operator text for one cause: what is wrong and what a supervisor does about it. */
function cause(code: string | undefined, what: 'folder' | 'file'): string {
  if (code === 'EROFS') {
    return 'is on a read-only disk or mount, so the station cannot write its database there. A supervisor must make that disk writable again (remount it read-write; a disk the system switched to read-only after errors must be checked first), or start the station on a writable data folder (--data-dir or LINE_STATION_DATA), then restart the station.';
  }
  return `is read-only for the user the station runs as (${userName()}): that user may not write to it, so the station cannot write its database there. A supervisor must give that user write permission on the ${what} (its owner or mode), or start the station as the user that owns it, then restart the station.`;
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
