/**
 * The station's log in its data folder, `logs/station.log`: the lines a running line prints
 * (each run that ended, sync problems and their reminders, ports missing, unlocks and refused
 * passphrases), kept where a supervisor or engineering finds them afterwards. The desktop window
 * has no terminal, so without this file its log went with the process; a headless station keeps
 * it across restarts too. Every log line of the station is operator text and holds no secret.
 *
 * Each line is written at once (one system call, no buffer), so a crash loses none of it. The
 * file is rotated at `maxBytes`: station.log becomes station.log.1, the older ones move up to
 * station.log.<keep>, and the oldest is dropped, so a line that runs every day for years never
 * fills the disk (30 MB with the defaults).
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { RunningStation, StationFactory } from '../api/stationFactory.js';
import { codedErrorLine, unwritableLogError } from './unwritableLog.js';

export const LOG_FILE_NAME = 'station.log';
/** Bytes a log file may reach before the next line starts a new one. */
export const DEFAULT_MAX_LOG_BYTES = 5 * 1024 * 1024;
/** Rotated files kept beside the current one. */
export const DEFAULT_KEPT_LOGS = 5;
/** After the file could not be written, how long before the next line tries it again. */
const RETRY_AFTER_MS = 60_000;

export interface StationLogFileOptions {
  maxBytes?: number;
  keep?: number;
  /** Told when the file cannot be written (once per failure, not per line); never throws. */
  onProblem?: (text: string) => void;
  now?: () => Date;
}

/** The folder a data folder's logs go to. */
export function logFolder(dataDir: string): string {
  return join(dataDir, 'logs');
}

export class StationLogFile {
  readonly path: string;
  readonly #folder: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #onProblem: (text: string) => void;
  readonly #now: () => Date;
  #fd: number | undefined;
  #size = 0;
  /** When a failed write may be tried again; undefined while the file is written. */
  #retryAt: number | undefined;
  #closed = false;

  constructor(dataDir: string, options: StationLogFileOptions = {}) {
    this.#folder = logFolder(dataDir);
    this.path = join(this.#folder, LOG_FILE_NAME);
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.#keep = Math.max(1, options.keep ?? DEFAULT_KEPT_LOGS);
    this.#onProblem = options.onProblem ?? ((text) => console.error(text));
    this.#now = options.now ?? (() => new Date());
  }

  /** Appends `line` with the time it was written; a line of several lines is indented. */
  write(line: string): void {
    if (this.#closed) return;
    const at = this.#now();
    if (this.#retryAt !== undefined && at.getTime() < this.#retryAt) return;
    const text = Buffer.from(`${at.toISOString()} ${line.replace(/\r?\n/g, '\n    ')}\n`);
    try {
      if (this.#fd === undefined) this.#open();
      else if (this.#size > 0 && this.#size + text.length > this.#maxBytes) this.#rotate();
      this.#size += writeAll(this.#fd!, text);
      if (this.#retryAt !== undefined) {
        this.#retryAt = undefined;
        this.#onProblem(`The station log is written again: ${this.path}`);
      }
    } catch (err) {
      this.#drop();
      const first = this.#retryAt === undefined;
      this.#retryAt = at.getTime() + RETRY_AFTER_MS;
      if (first) {
        const failed = err as NodeJS.ErrnoException;
        // A folder the station may not write is a supervisor's to fix: say which, and why.
        const unwritable = unwritableLogError(failed, this.path);
        this.#onProblem(
          unwritable
            ? codedErrorLine(unwritable)
            : `The station log cannot be written to ${failed.path ?? this.path} (${failed.code ?? failed.message}): its lines go only to this output until it can; the line runs on.`,
        );
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#drop();
  }

  #open(): void {
    // The log names ports, serial numbers and registration IDs: for the station's user alone,
    // as the database beside it.
    mkdirSync(this.#folder, { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, 'a', 0o600);
    this.#fd = fd;
    // A folder or file that was there before (restored from a backup, made by hand) may be
    // readable by others: narrowed here. Where the station may not change them, it logs on.
    narrow(() => chmodSync(this.#folder, 0o700));
    narrow(() => fchmodSync(fd, 0o600));
    this.#size = fstatSync(fd).size;
    if (this.#size > 0 && this.#size >= this.#maxBytes) this.#rotate();
  }

  #rotate(): void {
    this.#drop();
    for (let n = this.#keep - 1; n >= 1; n--) {
      const older = `${this.path}.${n}`;
      if (existsSync(older)) renameSync(older, `${this.path}.${n + 1}`);
    }
    if (existsSync(this.path)) renameSync(this.path, `${this.path}.1`);
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = 0;
  }

  #drop(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Closing a descriptor whose writes failed may fail too; there is nothing left to save.
    }
  }
}

/**
 * `factory` with its log also kept in the data folder's station.log: that the station starts,
 * each line the line logs, why it did not start if it did not, and its stop.
 */
export function loggedToFile(
  factory: StationFactory,
  dataDir: string,
  options: Omit<StationLogFileOptions, 'onProblem'> = {},
): StationFactory {
  return async (context) => {
    // Its problems go to the station's output only: the file is what cannot be written.
    const file = new StationLogFile(dataDir, { ...options, onProblem: context.log });
    file.write(`Line Station starts (process ${process.pid}, data folder ${dataDir}).`);
    const log = (line: string): void => {
      context.log(line);
      file.write(line);
    };
    let running: RunningStation;
    try {
      running = await factory({ ...context, log });
    } catch (err) {
      file.write(`Line Station did not start: ${refusalText(err)}`);
      file.close();
      markLogged(err);
      throw err;
    }
    return {
      ...running,
      log,
      stop: async () => {
        try {
          await running.stop();
          file.write('Line Station stopped.');
        } finally {
          file.close();
        }
      },
    };
  };
}

/** Refusals already in a station log, so a step that wraps another does not write them twice. */
const loggedRefusals = new WeakSet<object>();

function markLogged(err: unknown): void {
  if (typeof err === 'object' && err !== null) loggedRefusals.add(err);
}

/**
 * Keeps in the data folder's station.log why a start of its line stopped before the station ran
 * (a saved line or profiles file that cannot be used, no passphrase, the UI's port in use), with
 * its code: the terminal that showed it may be gone, and a station started at boot has none. A
 * refusal `loggedToFile` already wrote is not written again. Nothing is written in a folder that
 * does not exist: a mistyped --data-dir must not become a data folder. The refusals hold no
 * secret (a passphrase is never part of one) and never the served URL.
 */
export function logStartRefusal(
  dataDir: string,
  err: unknown,
  options: StationLogFileOptions = {},
): void {
  if (typeof err === 'object' && err !== null && loggedRefusals.has(err)) return;
  if (!existsSync(dataDir)) return;
  const file = new StationLogFile(dataDir, options);
  file.write(
    `Line Station did not start (process ${process.pid}, data folder ${dataDir}): ${refusalText(err)}`,
  );
  file.close();
  markLogged(err);
}

/** What a refused start says, with its code when it has one; whatever was thrown. */
function refusalText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code =
    typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `${message} (${code})` : message;
}

/** Writes all of `bytes`: a write to a nearly full disk may take only part of them. */
function writeAll(fd: number, bytes: Buffer): number {
  let written = 0;
  while (written < bytes.length) {
    const n = writeSync(fd, bytes, written);
    if (n === 0) throw Object.assign(new Error('the disk took no byte'), { code: 'ENOSPC' });
    written += n;
  }
  return written;
}

function narrow(change: () => void): void {
  try {
    change();
  } catch {
    // Not the station's to change (another owner): the log is written all the same.
  }
}
