import type Database from 'better-sqlite3';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { asStoreError, isSqliteError, toStoreError } from '../store/storeError.js';
import { UsageError } from './usageError.js';

/**
 * Where an export goes: standard output, or a file (`typed`: as --out gave it; `force`: it may
 * replace a file of that name).
 */
export type ExportTarget = { file: string; typed: string; force: boolean } | 'stdout';

const EVENT = 'outbox.exported';

/**
 * Hands an outbox export over with the event that records it (`outbox.exported`: which rows went
 * where, in which format, by whom; the rows themselves are in the export), so the trail shows
 * every export that left and none that did not.
 *
 * A file is first written beside its target under a temporary name, outside any transaction
 * (a slow or stalled disk must not hold the station database's write lock, which the line waits
 * for at every PASS). Then one transaction records the event and puts the file in place: linked
 * under its name (refused if a file of that name appeared meanwhile), or renamed over the one
 * --force replaces, atomically, so a failure at any point leaves the earlier file as it was and
 * no partial export. A commit that fails after the file is in place takes a new file away again
 * (a replaced one is gone by then: SQLite writes the event to disk at commit, so a disk that
 * fills in that instant is the one case left). Standard output cannot be taken back: the event
 * is recorded first, and the export printed once it is.
 * A file's event also says whether --force replaced one (`replaced`).
 */
export function exportRecorded(
  db: Database.Database,
  event: { actor: AuditActor; detail: Record<string, unknown> },
  target: ExportTarget,
  text: string,
): void {
  const record = (detail: Record<string, unknown>): number =>
    asStoreError(`record ${EVENT}`, () =>
      new AuditLog(db).append({
        at: new Date(),
        actor: event.actor,
        kind: EVENT,
        subject: 'outbox',
        detail,
      }),
    );
  if (target === 'stdout') {
    record(event.detail);
    process.stdout.write(text);
    return;
  }
  const temp = join(dirname(target.file), `.${basename(target.file)}.${process.pid}.partial`);
  try {
    writeFlushed(temp, text);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  let placed = false;
  let replaced = false;
  try {
    db.transaction(() => {
      replaced = target.force && existsSync(target.file);
      record({ ...event.detail, replaced });
      place(temp, target);
      placed = true;
    })();
    // After the commit: the write lock is not held while a slow stick flushes.
    flushFolder(dirname(target.file));
  } catch (err) {
    // Placed, then the commit failed: a file this export made goes again.
    if (placed && !replaced) rmSync(target.file, { force: true });
    throw isSqliteError(err) ? toStoreError(err, `record ${EVENT}`) : err;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Link errors of file systems without hard links (FAT and exFAT memory sticks among them). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Writes a new file and flushes it to the device before the event that records it commits: a
 * memory stick pulled right after "Wrote N enrollment(s)" must not hold a file cut short.
 */
function writeFlushed(file: string, text: string): void {
  const fd = openSync(file, 'wx');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes the folder's entry of a file just placed in it; a file system that cannot is left be. */
function flushFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // FAT and exFAT sticks refuse fsync on a folder: their entry is written with the file's.
  }
}

/** Puts the written export under its name, never over a file unless --force. */
function place(temp: string, target: Exclude<ExportTarget, 'stdout'>): void {
  if (target.force) return renameSync(temp, target.file);
  try {
    return linkSync(temp, target.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw fileThereAlready(target.typed, target.file);
    if (!NO_HARD_LINKS.has(code)) throw err;
  }
  // No hard links here: checked, then renamed (a file appearing in between is replaced).
  if (existsSync(target.file)) throw fileThereAlready(target.typed, target.file);
  renameSync(temp, target.file);
}

/** The refusal of a file that is there already, without --force. */
export function fileThereAlready(typed: string, file: string): UsageError {
  return new UsageError(
    `--out ${named(typed, file)}: a file of that name is there already. Choose another name, or add --force to replace it.`,
  );
}

/** `--out` as typed, with the absolute path it stands for when that differs. */
export function named(typed: string, file: string): string {
  return typed === file ? file : `${typed} (${file})`;
}
