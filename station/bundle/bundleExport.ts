import { randomUUID } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import { BundleError } from './bundleErrors.js';
import {
  BUNDLE_PAYLOAD_FORMAT,
  MAX_BUNDLE_ENROLLMENTS,
  bodySha256,
  bundlePayloadSchema,
  checkPayload,
  type BundleEnrollment,
  type BundlePayload,
} from './bundlePayload.js';
import { writeDurably } from './bundleFiles.js';
import { sealPayload } from './bundleSeal.js';

/**
 * `bundle export`: the pending enrollments of an air-gapped station, sealed under a bundle
 * passphrase into one file for a machine that reaches DPS (bundleSync.ts there).
 *
 * The rows stay `pending` here: a bundle is a carrier, not a hand-over. They are flagged to be
 * read from DPS before this station ever sends them itself, so a bundle synced elsewhere and a
 * line that comes online later never create an enrollment twice. The receipt that comes back
 * (bundleReceive.ts) settles them.
 */

export interface ExportRequest {
  db: Database.Database;
  /** Where the bundle goes; refused if something is there already. */
  file: string;
  /** Wraps the bundle's data key: a PassphraseKeyWrapper over the bundle passphrase. */
  wrapper: KeyWrapper;
  /**
   * Opens the station's sealed symmetric keys (the CA passphrase). Asked for only when a
   * symmetric-key-individual row is carried, so an X.509 line exports without the CA passphrase.
   */
  caSecrets: () => Promise<OpenSecret>;
  actor: AuditActor;
  dataDir: string;
  /**
   * Carry rows already in a bundle whose receipt has not come back (that bundle is lost). Without
   * it, each bundle carries only rows no other bundle still carries.
   */
  includeCarried?: boolean;
  now?: () => Date;
}

export interface ExportSummary {
  bundleId: string;
  file: string;
  enrollments: number;
  /** Earlier enrollments carried so DPS's copy can be told ours (re-provisioned devices). */
  history: number;
  byAttestation: Record<string, number>;
  /** Pending rows no bundle carries, left for the next one (above MAX_BUNDLE_ENROLLMENTS). */
  left: number;
}

interface Row {
  id: number;
  registrationId: string;
  attestation: BundleEnrollment['attestation'];
  body: string;
  sealedSecret: string | null;
  attempts: number;
  needsReconcile: 0 | 1;
  serialNumber: string;
  model: string;
  createdAt: string;
  supersededBy: number | null;
}

/**
 * A row another bundle carries and no receipt has answered finally yet. A row a receipt failed
 * and a supervisor requeued is free to go again.
 */
const STILL_CARRIED = `SELECT 1 FROM bundle_enrollments b
  WHERE b.enrollment_id = e.id AND b.answer_applied IS NULL`;

const COLUMNS = `e.id, e.registration_id AS registrationId, e.attestation, e.body,
  e.sealed_secret AS sealedSecret, e.attempts, e.needs_reconcile AS needsReconcile,
  d.serial_number AS serialNumber, d.model, e.created_at AS createdAt,
  e.superseded_by AS supersededBy`;

/** Seals the oldest pending enrollments into `file` and records the bundle. */
export async function exportBundle(request: ExportRequest): Promise<ExportSummary> {
  const { db } = request;
  const now = (request.now ?? (() => new Date()))();
  const uncarried = request.includeCarried ? '' : `AND NOT EXISTS (${STILL_CARRIED})`;
  const rows = db
    .prepare(
      `SELECT ${COLUMNS} FROM enrollments e JOIN devices d ON d.id = e.device_id
       WHERE e.status = 'pending' ${uncarried} ORDER BY e.id LIMIT ?`,
    )
    .all(MAX_BUNDLE_ENROLLMENTS + 1) as Row[];
  const pending = countPending(db);
  if (rows.length === 0) {
    if (pending === 0) throw new BundleError('BUNDLE_NOTHING_PENDING');
    throw new BundleError('BUNDLE_ALL_CARRIED', `${pending} pending, all carried`);
  }
  const live = rows.slice(0, MAX_BUNDLE_ENROLLMENTS);
  const left = exportableCount(db, request.includeCarried ?? false) - live.length;
  const history = historyOf(db, live);

  const opener = [...live, ...history].some((r) => r.attestation === 'symmetric-key-individual')
    ? await request.caSecrets()
    : undefined;
  const bundleId = randomUUID();
  const payload: BundlePayload = checkPayload(
    bundlePayloadSchema,
    {
      format: BUNDLE_PAYLOAD_FORMAT,
      version: 1,
      bundleId,
      createdAt: now.toISOString(),
      source: { host: hostname(), dataDir: request.dataDir },
      enrollments: await Promise.all(live.map((row) => carried(row, opener))),
      history: await Promise.all(
        history.map(async (row) => ({
          ...(await carried(row, opener)),
          supersededBy: row.supersededBy!,
        })),
      ),
    } satisfies BundlePayload,
    'the bundle being written',
  );
  const text = await sealPayload(
    { kind: 'bundle', bundleId, writtenAt: now.toISOString() },
    payload,
    request.wrapper,
  );
  writeRecorded(request, payload, now, history.length, text);
  const byAttestation: Record<string, number> = {};
  for (const row of live)
    byAttestation[row.attestation] = (byAttestation[row.attestation] ?? 0) + 1;
  return {
    bundleId,
    file: request.file,
    enrollments: live.length,
    history: history.length,
    byAttestation,
    left,
  };
}

/**
 * How many pending rows an export would carry (all bundles' worth): to refuse an empty export
 * before anyone types a passphrase.
 */
export function exportableCount(db: Database.Database, includeCarried: boolean): number {
  const uncarried = includeCarried ? '' : `AND NOT EXISTS (${STILL_CARRIED})`;
  return db
    .prepare(`SELECT count(*) FROM enrollments e WHERE e.status = 'pending' ${uncarried}`)
    .pluck()
    .get() as number;
}

function countPending(db: Database.Database): number {
  return db.prepare(`SELECT n FROM outbox_counts WHERE status = 'pending'`).pluck().get() as number;
}

/**
 * Earlier enrollments of the carried registration IDs that DPS may hold: sent before, or carried
 * in an earlier bundle. The syncing machine needs them to replace our own earlier enrollment of
 * a re-provisioned device instead of calling it a conflict.
 */
function historyOf(db: Database.Database, live: Row[]): Row[] {
  const earlier = db.prepare(
    `SELECT ${COLUMNS} FROM enrollments e JOIN devices d ON d.id = e.device_id
     WHERE e.registration_id = ? COLLATE NOCASE AND e.status = 'superseded'
       AND (e.attempts > 0 OR e.id IN (SELECT enrollment_id FROM bundle_enrollments))
     ORDER BY e.id DESC`,
  );
  // One seek per carried ID through migration 007's index of superseded rows.
  return live.flatMap((row) =>
    (earlier.all(row.registrationId) as Row[]).map((h) => ({
      ...h,
      supersededBy: h.supersededBy ?? row.id,
    })),
  );
}

async function carried(row: Row, opener: OpenSecret | undefined): Promise<BundleEnrollment> {
  const entry: BundleEnrollment = {
    id: row.id,
    registrationId: row.registrationId,
    attestation: row.attestation,
    body: row.body,
    bodySha256: bodySha256(row.body),
    attempts: row.attempts,
    needsReconcile: row.needsReconcile === 1,
    serialNumber: row.serialNumber,
    model: row.model,
    createdAt: row.createdAt,
  };
  if (row.attestation !== 'symmetric-key-individual' || row.sealedSecret === null) return entry;
  let key: Uint8Array;
  try {
    key = await opener!(row.sealedSecret, symmetricKeySealContext(row.registrationId));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new BundleError(
      'BUNDLE_SECRET_LOCKED',
      `enrollment ${row.id}: ${typeof code === 'string' ? code : 'open failed'}`,
      { cause: err },
    );
  }
  try {
    return { ...entry, symmetricKey: Buffer.from(key).toString('base64') };
  } finally {
    key.fill(0);
  }
}

/** The bundle, its rows and its audit event, and the rows flagged to be read from DPS first. */
function record(request: ExportRequest, payload: BundlePayload, now: Date, history: number): void {
  const { db } = request;
  const member = db.prepare(
    'INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)',
  );
  const flag = db.prepare(
    `UPDATE enrollments SET needs_reconcile = 1, updated_at = ? WHERE id = ? AND status = 'pending'`,
  );
  db.transaction(() => {
    db.prepare('INSERT INTO bundles (id, created_at, file, enrollments) VALUES (?, ?, ?, ?)').run(
      payload.bundleId,
      now.toISOString(),
      request.file,
      payload.enrollments.length,
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
      detail: { file: request.file, enrollments: payload.enrollments.length, history },
    });
  }).immediate();
}

/**
 * Records the bundle, then writes its file, so that no file names a bundle this station does not
 * know: a crash in between leaves a recorded bundle with no file (or an unreadable one), whose
 * only effect is that its rows are read from DPS first. The file is claimed first (`wx`), so a
 * name in use is refused before anything is recorded. Written in place, not renamed into place:
 * a failed write removes it and withdraws the record, and the rows are free for another bundle.
 */
function writeRecorded(
  request: ExportRequest,
  payload: BundlePayload,
  now: Date,
  history: number,
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
      record(request, payload, now, history);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
    try {
      writeDurably(fd, file, text, 'BUNDLE_WRITE_FAILED');
    } catch (err) {
      rmSync(file, { force: true });
      try {
        withdraw(request, payload.bundleId, err);
      } catch {
        // The record stays, harmless: its rows are read from DPS first, and `bundle list`
        // shows a bundle no receipt will answer. The write's own error is the one to report.
      }
      throw err instanceof BundleError ? err : writeFailed(file, err);
    }
  } finally {
    closeSync(fd);
  }
}

/** Takes back the record of a bundle whose file could not be written. */
function withdraw(request: ExportRequest, bundleId: string, cause: unknown): void {
  const { db } = request;
  db.transaction(() => {
    db.prepare('DELETE FROM bundles WHERE id = ?').run(bundleId);
    new AuditLog(db).append({
      at: (request.now ?? (() => new Date()))(),
      actor: request.actor,
      kind: 'outbox.bundle-withdrawn',
      subject: bundleId,
      detail: { file: request.file, reason: (cause as { code?: string }).code ?? String(cause) },
    });
  }).immediate();
}

function writeFailed(file: string, err: unknown): BundleError {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EEXIST'
    ? new BundleError('BUNDLE_FILE_EXISTS', file, { cause: err })
    : new BundleError('BUNDLE_WRITE_FAILED', `${file}: ${code ?? String(err)}`, { cause: err });
}
