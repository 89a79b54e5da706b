/**
 * Why the station log (stationLogFile.ts) cannot be written, when a supervisor has to fix its
 * folder: the words of the database's STORE_READ_ONLY (unwritableFolder.ts), said of the log.
 * Node's own refusal sends a supervisor the wrong way: its recursive mkdir says ENOENT, "no such
 * file or directory", for a folder it cannot create on a read-only mount.
 */
import type { CodedError } from '../line/lineTypes.js';
import { diagnoseUnwritable } from '../store/unwritableFolder.js';

/** The log's folder or file cannot be written: a read-only mount, or no permission. */
export const STATION_LOG_READ_ONLY = 'STATION_LOG_READ_ONLY';

/** Refusals that may come from a folder or file the station may not write (ENOENT: see above). */
const MAYBE_UNWRITABLE = new Set(['ENOENT', 'EROFS', 'EACCES', 'EPERM']);

/**
 * The coded error for `failed`, a refusal met creating or opening the log at `logPath`, when
 * its folder or file cannot be written; undefined when that is not the cause.
 */
export function unwritableLogError(
  failed: NodeJS.ErrnoException,
  logPath: string,
): CodedError | undefined {
  if (!MAYBE_UNWRITABLE.has(failed.code ?? '')) return undefined;
  const unwritable = diagnoseUnwritable({
    file: logPath,
    folderName: 'The station log folder',
    fileName: 'The station log',
    writes: 'its log',
    // The log is tried again with the first line a minute or more after: once writable, it is written without a restart.
    afterFix:
      '. Until then the log lines go only to this output (a log that cannot be written stops no line), and the station tries the log again with its first line a minute or more later.',
  });
  if (unwritable === undefined) return undefined;
  return {
    code: STATION_LOG_READ_ONLY,
    message: unwritable.message,
    detail: `${failed.message}; ${unwritable.refusal.message}`,
  };
}

/** A coded error as one log line: the message, its code, the detail on a line of its own. */
export function codedErrorLine(error: CodedError): string {
  const detail = error.detail === undefined ? '' : `\n  detail: ${error.detail}`;
  return `${error.message} [${error.code}]${detail}`;
}
