import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { sealedText, type KeyWrapper } from '../../certs/custody/secretBox.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { BundleError } from './bundleErrors.js';
import { BUNDLE_ID } from './bundleSeal.js';
import { bodySha256, type BundleEnrollment, type BundlePayload } from './bundlePayload.js';

/**
 * The online machine's copy of a bundle's outbox: a real station database, so the project's own
 * SyncWorker drains it exactly as it drains a line station's outbox (claims, reconcile, If-Match
 * replace, conflicts) and nothing of that logic is written twice. It lives as long as the bundle
 * is being synced: a second `bundle sync` of the same file (DPS was offline, the machine was
 * switched off mid-way) reopens it and goes on from what DPS already answered, and rows whose
 * send had no answer are read back from DPS before they are sent again.
 *
 * Rows keep the exporting station's enrollment ids, so the receipt answers by those ids.
 */

/**
 * Where the work store of a bundle synced to `dpsHost` lives under a data folder. One per bundle
 * AND DPS: what one DPS answered says nothing of another, so a bundle synced to the wrong DPS
 * first, then to the right one, is sent afresh to the right one instead of reported synced.
 */
export function bundleWorkStorePath(dataDir: string, bundleId: string, dpsHost: string): string {
  // One name per DPS however it is written (case, the default port, a trailing dot); a host name
  // or host:port holds nothing else, and anything a file name cannot hold becomes `_`.
  const host = dpsHost
    .toLowerCase()
    .replace(/:443$/, '')
    .replace(/\.(?=:|$)/, '')
    .replace(/[^a-z0-9.-]/g, '_');
  return join(dataDir, 'bundles', `${bundleId}@${host}.db`);
}

/** Key sealed per enrollment id: sealed before the (synchronous) insert transaction. */
type SealedKeys = Map<number, string>;

/**
 * Opens (creating and filling it when new) the work store of `payload` for `dpsHost` under
 * `<dataDir>/bundles/`. `payload` must have passed bundlePayloadSchema. `wrapper` seals the
 * carried symmetric keys at rest and later opens them for the worker; give a session wrapper
 * (PassphraseKeyWrapper `session: true`), or each key costs a full scrypt.
 *
 * Throws BundleError: BUNDLE_CORRUPT (the payload contradicts itself: a body that does not hash
 * to its bodySha256, a repeated id or registration ID), BUNDLE_WORK_MISMATCH (the folder already
 * holds other work under this bundle ID); StoreError when the database refuses.
 */
export async function openBundleWorkStore(
  dataDir: string,
  payload: BundlePayload,
  wrapper: KeyWrapper,
  dpsHost: string,
): Promise<Database.Database> {
  // The ID names a file: no separator, no `..` can reach the path.
  if (!BUNDLE_ID.test(payload.bundleId)) {
    throw new BundleError('BUNDLE_CORRUPT', 'field bundleId is not a bundle ID');
  }
  // Before anything is written: a contradiction found after DPS calls would cost a receipt.
  checkCarried(payload);
  mkdirSync(join(dataDir, 'bundles'), { recursive: true, mode: 0o700 });
  const db = openStationDatabase(bundleWorkStorePath(dataDir, payload.bundleId, dpsHost), {
    requireWritable: true,
  });
  try {
    // A file that records no bundle is new, or its filling never committed (a crash between
    // the migrations and the insert): either way there is nothing in it to keep, so fill it.
    // (Not judged by its enrollments: a bundle of retirements alone carries none.)
    if (!isFilled(db)) {
      const sealed = await sealCarriedKeys(payload, wrapper);
      const filled = db.transaction(() => {
        // Looked at again under the write lock: a second `bundle sync` of the same file
        // started at the same moment may have filled it meanwhile.
        if (isFilled(db)) return false;
        fill(db, payload, sealed);
        return true;
      });
      if (filled.immediate()) return db;
    }
    checkSameWork(db, payload);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Whether the work store was filled: the fill records its bundle in the same transaction. */
function isFilled(db: Database.Database): boolean {
  return db.prepare(`SELECT EXISTS (SELECT 1 FROM bundles)`).pluck().get() === 1;
}

function checkCarried(payload: BundlePayload): void {
  const ids = new Set<number>();
  const live = new Set<string>();
  for (const e of [...payload.enrollments, ...payload.history]) {
    if (ids.has(e.id)) throw new BundleError('BUNDLE_CORRUPT', `enrollment id ${e.id} repeats`);
    ids.add(e.id);
  }
  for (const e of payload.enrollments) {
    // The receipt names the stored body's hash; one that differs here could never be applied.
    if (bodySha256(e.body) !== e.bodySha256) {
      throw new BundleError('BUNDLE_CORRUPT', `enrollment ${e.id}: body does not match bodySha256`);
    }
    // Exact repeats only, as the station's own one-live-per-ID index refuses them.
    if (live.has(e.registrationId)) {
      throw new BundleError('BUNDLE_CORRUPT', `registration ID ${e.registrationId} repeats`);
    }
    live.add(e.registrationId);
  }
}

/**
 * Seals each carried symmetric key as the line seals it (same context), so the worker opens it
 * the way it opens a line station's. The key bytes are zeroed as soon as they are sealed; the
 * base64 text in the payload is a JS string and cannot be, so the caller drops the payload.
 */
async function sealCarriedKeys(payload: BundlePayload, wrapper: KeyWrapper): Promise<SealedKeys> {
  const box = sealedText(wrapper);
  const sealed: SealedKeys = new Map();
  for (const e of [...payload.enrollments, ...payload.history]) {
    if (e.attestation !== 'symmetric-key-individual' || e.symmetricKey === undefined) continue;
    const key = Buffer.from(e.symmetricKey, 'base64');
    try {
      sealed.set(e.id, await box.seal(key, symmetricKeySealContext(e.registrationId)));
    } finally {
      key.fill(0);
    }
  }
  return sealed;
}

/** Inserts every carried row (inside the caller's transaction). */
function fill(db: Database.Database, payload: BundlePayload, sealed: SealedKeys): void {
  const now = new Date().toISOString();
  const port = `bundle:${payload.bundleId}`;
  const sql = {
    // One device per (serial, model), as the line keeps it; the no-op update makes RETURNING
    // answer for a device already inserted by an earlier row of the bundle.
    device: db
      .prepare(
        `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, ?, ?)
        ON CONFLICT (serial_number, model) DO UPDATE SET first_seen_at = first_seen_at
        RETURNING id`,
      )
      .pluck(),
    // A passed run, as every enrollment has one (run_id is NOT NULL UNIQUE): a pass must name
    // its device and registration ID and be finished. Nobody started it on this machine, so
    // started_by and the owner columns stay NULL, which only a running run would need.
    run: db.prepare(`INSERT INTO runs (port, profile, device_id, registration_id, state,
        started_at, finished_at) VALUES (?, '(bundle)', ?, ?, 'pass', ?, ?)`),
    member: db.prepare(
      'INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)',
    ),
    enrollment: db.prepare(`INSERT INTO enrollments (id, registration_id, device_id, run_id,
        attestation, body, sealed_secret, status, attempts, needs_reconcile, created_at,
        updated_at, superseded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
  const insert = (e: BundleEnrollment, status: string, supersededBy: number | null): void => {
    const deviceId = sql.device.get(e.serialNumber, e.model, e.createdAt) as number;
    const run = sql.run.run(port, deviceId, e.registrationId, e.createdAt, e.createdAt);
    sql.enrollment.run(
      e.id,
      e.registrationId,
      deviceId,
      run.lastInsertRowid,
      e.attestation,
      e.body,
      sealed.get(e.id) ?? null,
      status,
      e.attempts,
      e.needsReconcile ? 1 : 0,
      e.createdAt,
      now,
      supersededBy,
    );
    sql.member.run(payload.bundleId, e.id, e.bodySha256);
  };
  // The bundle is recorded here as on the line, with every row it carried: a carried earlier
  // enrollment may be in DPS even if the line never sent it itself (it went in an earlier
  // bundle), and the worker's look for earlier enrollments counts bundle rows as maybe sent.
  db.prepare(
    'INSERT INTO bundles (id, created_at, file, enrollments, retirements) VALUES (?, ?, ?, ?, ?)',
  ).run(
    payload.bundleId,
    payload.createdAt,
    `carried from ${payload.source.host} (${payload.source.dataDir})`,
    payload.enrollments.length,
    payload.retirements?.length ?? 0,
  );
  // DPS compares registration IDs ignoring case, and so does the worker's look for earlier ones.
  const liveId = new Map<string, number>();
  for (const e of payload.enrollments) {
    insert(e, 'pending', null);
    if (!liveId.has(e.registrationId.toLowerCase()))
      liveId.set(e.registrationId.toLowerCase(), e.id);
  }
  // History after the live rows: superseded_by references them. An entry whose ID the bundle
  // does not carry alive could only ever be compared with nothing, so it is left out.
  for (const h of payload.history) {
    const successor = liveId.get(h.registrationId.toLowerCase());
    if (successor !== undefined) insert(h, 'superseded', successor);
  }
}

/** A reopened work store must hold exactly the carried enrollments, with the same bodies. */
function checkSameWork(db: Database.Database, payload: BundlePayload): void {
  const read = db.prepare(`SELECT body, status FROM enrollments WHERE id = ?`);
  for (const e of payload.enrollments) {
    const row = read.get(e.id) as { body: string; status: string } | undefined;
    if (row === undefined || row.status === 'superseded') {
      throw new BundleError('BUNDLE_WORK_MISMATCH', `enrollment ${e.id} is not in the work store`);
    }
    if (bodySha256(row.body) !== e.bodySha256) {
      throw new BundleError(
        'BUNDLE_WORK_MISMATCH',
        `enrollment ${e.id} holds another body in the work store`,
      );
    }
  }
  const live = db
    .prepare(`SELECT count(*) FROM enrollments WHERE status != 'superseded'`)
    .pluck()
    .get() as number;
  if (live !== payload.enrollments.length) {
    throw new BundleError(
      'BUNDLE_WORK_MISMATCH',
      `the work store holds ${live} enrollments, the bundle carries ${payload.enrollments.length}`,
    );
  }
}
