import type Database from 'better-sqlite3';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { asStoreError, toStoreError } from '../store/storeError.js';
import { UsageError } from './usageError.js';

/**
 * Where an export goes: standard output, or a file (`typed`: as --out gave it; `force`: it may
 * replace a file of that name; `replaces`: one was there when the command checked).
 */
export type ExportTarget =
  { file: string; typed: string; force: boolean; replaces: boolean } | 'stdout';

const EVENT = 'outbox.exported';

/**
 * Hands an outbox export over inside the transaction that records it (`outbox.exported`: which
 * rows went where, in which format, by whom; the rows themselves are in the export), so the
 * trail shows every export that left and none that did not:
 * - the event is written before the export leaves, so a database another program holds locked
 *   refuses the export before any of it is written;
 * - an export that cannot be written (a file that appeared meanwhile, a full disk) leaves no
 *   event and no partial file;
 * - a commit that fails after the file was written (SQLite writes the event to disk only at
 *   commit: a full disk shows there) removes the file again. Standard output cannot be taken
 *   back: the command then says on stderr that the export printed is not in the trail.
 */
export function exportRecorded(
  db: Database.Database,
  event: { actor: AuditActor; detail: Record<string, unknown> },
  target: ExportTarget,
  text: string,
): void {
  let written: string | undefined;
  const handOver = db.transaction(() => {
    asStoreError(`record ${EVENT}`, () =>
      new AuditLog(db).append({
        at: new Date(),
        actor: event.actor,
        kind: EVENT,
        subject: 'outbox',
        detail: event.detail,
      }),
    );
    if (target === 'stdout') {
      process.stdout.write(text);
      written = 'standard output';
      return;
    }
    written = writeExportFile(target, text);
  });
  try {
    handOver();
  } catch (err) {
    if (written === undefined) throw err;
    // The export was handed over; the commit of its event failed.
    if (target === 'stdout') {
      console.error(
        `note: the export printed above is not recorded in the audit trail (${EVENT} could not be written)`,
      );
    } else {
      unlinkSync(written);
    }
    throw toStoreError(err, `record ${EVENT}`);
  }
}

/**
 * Writes the file (without --force never over one that appeared since the command checked);
 * a write that fails part-way leaves no partial export behind. Returns the file written.
 */
function writeExportFile(target: Exclude<ExportTarget, 'stdout'>, text: string): string {
  let fd: number;
  try {
    fd = openSync(target.file, target.force ? 'w' : 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw fileThereAlready(target.typed, target.file);
    }
    throw err;
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(target.file);
    throw err;
  }
  return target.file;
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
