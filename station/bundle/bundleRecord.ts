/**
 * The last step of `bundle export`: the bundle recorded in the station database (its rows, its
 * audit event), then its file written, then marked written; or, when the file cannot be
 * written, the record withdrawn and the file removed.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { REVOKED_CODE } from '../store/revokedEnrollment.js';
import { BundleError } from './bundleErrors.js';
import { writeDurably } from './bundleFiles.js';
import type { BundlePayload } from './bundlePayload.js';

/** What recording and writing a bundle need of the export's request. */
export interface RecordRequest {
  db: Database.Database;
  file: string;
  actor: AuditActor;
}

/** The bundle, its rows and its audit event, and the rows flagged to be read from DPS first. */
function record(request: RecordRequest, payload: BundlePayload, now: Date): void {
  const { db } = request;
  const member = db.prepare(
    'INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)',
  );
  const flag = db.prepare(
    `UPDATE enrollments SET needs_reconcile = 1, updated_at = ? WHERE id = ? AND status = 'pending'`,
  );
  // Withheld for good (revokedEnrollment.ts): a sync that settled a row meanwhile is harmless,
  // its receipt finds it settled, but a revoked certificate must not go out in a file.
  const withheld = db
    .prepare(`SELECT last_error_code = '${REVOKED_CODE}' FROM enrollments WHERE id = ?`)
    .pluck();
  db.transaction(() => {
    // Read before the secrets were asked and the payload sealed (seconds): a row revoked
    // meanwhile (`ca revoke` in another terminal) was withheld as never sent, and must not go
    // out in a file all the same.
    const revoked = payload.enrollments.filter((entry) => withheld.get(entry.id) === 1);
    if (revoked.length > 0) {
      throw new BundleError(
        'BUNDLE_OUTBOX_CHANGED',
        `the certificate of enrollment(s) ${revoked.map((entry) => entry.id).join(', ')} was revoked while the bundle was written`,
      );
    }
    db.prepare(
      'INSERT INTO bundles (id, created_at, file, enrollments, retirements) VALUES (?, ?, ?, ?, ?)',
    ).run(
      payload.bundleId,
      now.toISOString(),
      request.file,
      payload.enrollments.length,
      payload.retirements?.length ?? 0,
    );
    for (const entry of [...payload.enrollments, ...payload.history]) {
      member.run(payload.bundleId, entry.id, entry.bodySha256);
    }
    for (const entry of payload.enrollments) flag.run(now.toISOString(), entry.id);
    new AuditLog(db).append({
      at: now,
      actor: request.actor,
      kind: 'outbox.bundle-exported',
      subject: payload.bundleId,
      detail: {
        file: request.file,
        enrollments: payload.enrollments.length,
        history: payload.history.length,
        retirements: payload.retirements?.length ?? 0,
      },
    });
  }).immediate();
}

/**
 * Records the bundle, then writes its file, then marks it written, so that no file names a
 * bundle this station does not know: a crash in between leaves a recorded bundle never marked
 * written, which carries nothing (its rows go in the next bundle, read from DPS first). The file
 * is claimed first (`wx`), so a name in use is refused before anything is recorded. Written in
 * place, not renamed into place: a failed write removes it and withdraws the record, and the
 * rows are free for another bundle. Every time recorded is the export's own.
 */
export function writeRecorded(
  request: RecordRequest,
  payload: BundlePayload,
  now: Date,
  text: string,
): void {
  const { file } = request;
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    throw writeFailed(file, err);
  }
  try {
    try {
      record(request, payload, now);
    } catch (err) {
      removeQuietly(file);
      throw err;
    }
    try {
      writeDurably(fd, file, text, 'BUNDLE_WRITE_FAILED');
    } catch (err) {
      try {
        withdraw(request, payload.bundleId, now, err);
      } catch {
        // The record stays, never marked written: it carries nothing, and its rows go in the
        // next bundle. The write's own error is the one to report.
      }
      removeQuietly(file);
      throw err instanceof BundleError ? err : writeFailed(file, err);
    }
    try {
      request.db
        .prepare('UPDATE bundles SET written_at = ? WHERE id = ?')
        .run(now.toISOString(), payload.bundleId);
    } catch (err) {
      // A whole bundle the station does not count as written (a running station holding the
      // write lock past the busy timeout, a full disk) would be synced and its rows exported
      // again: the file goes first, then the record, as for a failed write.
      const removed = removeQuietly(file);
      try {
        withdraw(request, payload.bundleId, now, err);
      } catch {
        // The record stays, never marked written: it carries nothing (as after a crash here).
      }
      throw notMarked(file, removed, err);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A half-written file goes; a stick that refuses even that keeps it, and it fails to open.
 * False when the file could not be removed.
 */
function removeQuietly(file: string): boolean {
  try {
    rmSync(file, { force: true });
    return true;
  } catch {
    // Read-only or gone: the file cannot open as a bundle (cut short), and nothing knows it.
    return false;
  }
}

/** Takes back the record of a bundle whose file could not be written. */
function withdraw(request: RecordRequest, bundleId: string, now: Date, cause: unknown): void {
  const { db } = request;
  db.transaction(() => {
    db.prepare('DELETE FROM bundles WHERE id = ?').run(bundleId);
    new AuditLog(db).append({
      at: now,
      actor: request.actor,
      kind: 'outbox.bundle-withdrawn',
      subject: bundleId,
      detail: { file: request.file, reason: (cause as { code?: string }).code ?? String(cause) },
    });
  }).immediate();
}

/** The database could not mark the written bundle so: nothing was carried, export again. */
function notMarked(file: string, removed: boolean, err: unknown): BundleError {
  const code = (err as { code?: string }).code ?? String(err);
  const left = removed
    ? 'the file was removed'
    : 'the file could not be removed: delete it, it must not be synced';
  // The code's usual text blames the drive; here the drive took the file and the database did
  // not, so the operator reads this case's own sentence, with what to do about a file left.
  const message = removed
    ? 'The bundle was written, but the station database could not record it (another program held it, or the disk is full), so the file was removed and no bundle was recorded. Export again.'
    : 'The bundle was written, but the station database could not record it (another program held it, or the disk is full), and the file could not be removed: delete it, it must not be synced. Then export again.';
  return new BundleError(
    'BUNDLE_WRITE_FAILED',
    `${file}: the station database could not record the bundle as written (${code}), so it carries nothing and ${left}; export again`,
    { cause: err, message },
  );
}

function writeFailed(file: string, err: unknown): BundleError {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EEXIST'
    ? new BundleError('BUNDLE_FILE_EXISTS', file, { cause: err })
    : new BundleError('BUNDLE_WRITE_FAILED', `${file}: ${code ?? String(err)}`, { cause: err });
}
