import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { sealedText, type KeyWrapper } from '../../certs/custody/secretBox.js';
import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import type { CodedError } from '../line/lineTypes.js';
import { closeStationDatabase } from '../store/stationDatabase.js';
import type { BackoffPolicy } from '../sync/backoff.js';
import { carriedGroupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { syncErrorText } from '../sync/syncErrors.js';
import { SyncWorker } from '../sync/syncWorker.js';
import type { SyncProgress } from '../sync/syncTypes.js';
import { sealPayload } from './bundleSeal.js';
import {
  MAX_DPS_JSON_BYTES,
  dpsJsonObject,
  RECEIPT_PAYLOAD_FORMAT,
  bodySha256,
  receiptCounts,
  receiptPayloadSchema,
  type BundleEnrollment,
  type BundlePayload,
  type ReceiptPayload,
  type ReceiptResult,
} from './bundlePayload.js';
import {
  MAX_RETRY_ROUNDS,
  RETRY_MARGIN_MS,
  nextDpsRetryAt,
  nextRetry,
  retryDeadline,
  unlessAborted,
  waitUnlessAborted,
  type RetryWait,
} from './bundleSyncWait.js';
import {
  bothRuns,
  carriedRetirementsIn,
  recordDeletions,
  retirementCounts,
  type RetirementCounts,
} from './bundleRetirementSync.js';
import { openBundleWorkStore } from './bundleWorkStore.js';

/**
 * The online machine's half of an outbox bundle (`station bundle sync FILE`): the carried
 * enrollments go to DPS through the station's own SyncWorker, run on the bundle's work store
 * (bundleWorkStore.ts), and what DPS answered comes back as a receipt for the line station.
 * A receipt is written whatever happened: rows DPS did not answer are `pending` in it, and the
 * same bundle synced again later goes on from where this one stopped. Rows DPS asked to retry
 * (429 or 5xx for one item of a bulk call) are waited for, within `retryWithinMs`: the receipt
 * crosses an air gap, and a DPS that answers is worth a minute more here.
 */

export interface SyncBundleOptions {
  /** The data folder of this (online) machine; the work store goes under `bundles/`. */
  dataDir: string;
  /** The opened, validated bundle payload. */
  payload: BundlePayload;
  /** The bundle passphrase's wrapper: seals the carried keys at rest, opens them to send. */
  wrapper: KeyWrapper;
  dps: DpsServiceApi;
  /** The DPS host name, recorded in the receipt for the people reading it. */
  dpsHost: string;
  /** Who ran the sync, recorded in the receipt with this machine's name for the line's audit. */
  syncedBy?: string;
  /** The worker's reports while it sends, for the command's progress line. */
  onProgress?: (progress: SyncProgress) => void;
  /** When the receipt is written (`writtenAt`); the clock by default. */
  now?: () => Date;
  /**
   * How long after the start of the sync a retry time DPS asked for is still waited for;
   * default 10 minutes. Rows whose retry falls later are left pending (summary.dpsRetryAt).
   */
  retryWithinMs?: number;
  /** Called before each wait for a retry time, with the time waited for and whose wait it is. */
  onWaiting?: (wait: RetryWait) => void;
  /**
   * Aborted, the sync stops (a wait at once; a send once the calls in flight have ended) and
   * the receipt is built from what settled. Rows not settled are `pending` in it.
   */
  signal?: AbortSignal;
  /** The worker's retry backoff (syncWorkerOptions.ts); its default unless given (tests). */
  backoff?: Partial<BackoffPolicy>;
}

/** What this sync came to, per outcome, and why it stopped early if it did. */
export interface BundleSyncSummary {
  synced: number;
  failed: number;
  conflict: number;
  pending: number;
  /** Why rows are left pending (DPS offline, credentials refused…): code and text, no secret. */
  lastError?: CodedError;
  /**
   * When the earliest pending row DPS asked to retry may be sent again (ISO), if one waits for
   * DPS. Rows waiting out the station's own delay are not counted: `lastError` names their cause.
   */
  dpsRetryAt?: string;
  /** How the superseded enrollments the bundle carried for retirement ended (when it did). */
  retirements?: RetirementCounts;
}

/**
 * Sends the bundle's enrollments to DPS and builds the receipt. Resolves with a receipt even
 * when DPS could not be reached or refused the credentials (summary.lastError says so); rejects
 * only when the work store cannot be used (BundleError, StoreError).
 */
export async function syncBundle(
  options: SyncBundleOptions,
): Promise<{ receipt: ReceiptPayload; summary: BundleSyncSummary }> {
  const { payload } = options;
  const deadline = retryDeadline(Date.now(), options.retryWithinMs);
  const db = await openBundleWorkStore(options.dataDir, payload, options.wrapper, options.dpsHost);
  try {
    // Deletions under group members' IDs first: each member waits for the one under its ID.
    const deleted = await carriedRetirementsIn(options, undefined, 'deletions');
    recordDeletions(db, options.payload.retirements ?? [], deleted, options.now?.() ?? new Date());
    let stopped = (await drain(db, options, deadline)) ?? unconfirmableMembers(db);
    // The others after the enrollments, as the online worker retires only once no batch runs.
    const retired = bothRuns(deleted, await carriedRetirementsIn(options, stopped, 'the rest'));
    stopped ??= retired?.failure;
    // Prepared once: a bundle carries up to MAX_BUNDLE_ENROLLMENTS enrollments.
    const read = db.prepare(READ_ROW);
    const results = payload.enrollments.map((e) =>
      resultOf(read.get(e.id) as StoredRow | undefined, e),
    );
    const receipt = checkedReceipt({
      format: RECEIPT_PAYLOAD_FORMAT,
      version: 1,
      bundleId: payload.bundleId,
      writtenAt: (options.now?.() ?? new Date()).toISOString(),
      dpsHost: options.dpsHost,
      ...(options.syncedBy !== undefined && {
        syncedOn: { host: hostname(), by: options.syncedBy },
      }),
      results,
      ...(retired && { retirements: retired.retirements }),
    });
    const summary: BundleSyncSummary = receiptCounts(receipt);
    if (retired) summary.retirements = retirementCounts(retired);
    if (stopped) summary.lastError = stopped;
    const retryAt = summary.pending > 0 ? nextDpsRetryAt(db) : undefined;
    if (retryAt !== undefined) summary.dpsRetryAt = new Date(retryAt).toISOString();
    return { receipt, summary };
  } finally {
    // Folds the WAL in, so the work store is one file if someone copies it to engineering.
    closeStationDatabase(db);
  }
}

/** Seals a receipt as the file `bundle sync` writes. */
export function sealReceipt(receipt: ReceiptPayload, wrapper: KeyWrapper): Promise<string> {
  return sealPayload(
    { kind: 'receipt', bundleId: receipt.bundleId, writtenAt: receipt.writtenAt },
    receipt,
    wrapper,
  );
}

/**
 * Runs the worker until nothing due is left, then waits for the retry times DPS asked for that
 * fall before `deadline` and sends again, until none is left, it gives up for now or `signal`
 * aborts; returns why it gave up (or the error it last reported, when rows wait), undefined
 * when it did not.
 */
async function drain(
  db: Database.Database,
  options: SyncBundleOptions,
  deadline: number,
): Promise<CodedError | undefined> {
  const worker = new SyncWorker({
    db,
    dps: options.dps,
    openSecret: sealedText(options.wrapper).open,
    // Members are synced only once DPS shows their group with the key their device key was
    // derived from: its fingerprint in each member's body, or for members of an earlier version
    // (none in the body) the line's key the bundle carries per group.
    groupKeys: carriedGroupKeyFingerprints(options.payload.groupKeys),
    ...(options.backoff && { backoff: options.backoff }),
  });
  const off = options.onProgress && worker.onProgress.on(options.onProgress);
  // A whole call DPS throttled or failed holds the worker itself, inside "sync now": the same
  // deadline bounds that wait, and it is announced like a row's retry.
  const held = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, held.signal]) : held.signal;
  let announced: string | undefined;
  const offHold = worker.onProgress.on(({ state, heldUntil, heldByDps, lastError }) => {
    if (state !== 'backoff' || heldUntil === undefined || heldUntil === announced) return;
    announced = heldUntil;
    if (Date.parse(heldUntil) > deadline) {
      held.abort();
      return;
    }
    options.onWaiting?.({
      until: new Date(heldUntil),
      code: lastError?.code,
      byDps: heldByDps ?? true,
    });
  });
  try {
    worker.start();
    let progress = (await unlessAborted(worker.syncNow(), signal)) ?? worker.status();
    // syncNow() resolves once nothing is due, even when DPS refused an item for the moment.
    for (let round = 0; round < MAX_RETRY_ROUNDS && !signal.aborted; round++) {
      const wait = nextRetry(db);
      if (wait === undefined || wait.until.getTime() > deadline) break;
      const at = wait.until.getTime();
      if (at > Date.now()) options.onWaiting?.(wait);
      if (!(await waitUnlessAborted(at + RETRY_MARGIN_MS - Date.now(), signal))) break;
      progress = (await unlessAborted(worker.syncNow(), signal)) ?? worker.status();
    }
    // A resolved "sync now" may still leave rows waiting for a retry time: the worker's last
    // error then says why. With nothing left, an old error would only mislead.
    if (held.signal.aborted) progress = worker.status();
    return progress.counts.pending + progress.counts.syncing > 0
      ? progress.lastError && codedError(progress.lastError)
      : undefined;
  } catch (err) {
    // SYNC_OFFLINE, SYNC_CREDENTIALS_REFUSED, SYNC_WORKER_ELSEWHERE…: what settled still goes
    // into the receipt, and the rest waits for the next sync of this bundle.
    return codedError(err);
  } finally {
    await worker.stop();
    off?.();
    offHold();
  }
}

/**
 * Why group members wait that no further run of this bundle settles: neither their body nor the
 * bundle carries a fingerprint of their group's key (an earlier version provisioned and exported
 * them), so nothing can confirm their group.
 */
function unconfirmableMembers(db: Database.Database): CodedError | undefined {
  const detail = db
    .prepare(
      `SELECT last_error FROM enrollments
      WHERE status = 'pending' AND last_error_code = 'SYNC_GROUP_KEY_UNAVAILABLE' LIMIT 1`,
    )
    .pluck()
    .get() as string | null | undefined;
  if (detail === undefined) return undefined;
  const code = 'SYNC_GROUP_KEY_UNAVAILABLE';
  return { code, message: syncErrorText[code], ...(detail !== null && { detail }) };
}

/**
 * Only the code, the operator text and the detail: a SyncError's detail never holds a key, and
 * nothing else of the error (its cause, a DPS response) is carried on. An error without a code
 * is a defect and is thrown as it is.
 */
function codedError(err: unknown): CodedError {
  const { code, message, detail } = (err ?? {}) as Partial<Record<string, unknown>>;
  if (typeof code !== 'string' || typeof message !== 'string') throw err;
  return typeof detail === 'string' ? { code, message, detail } : { code, message };
}

interface StoredRow {
  registrationId: string;
  status: string;
  attempts: number;
  body: string;
  etag: string | null;
  syncNote: string | null;
  lastErrorCode: string | null;
  lastError: string | null;
  dpsError: string | null;
  dpsRecord: string | null;
}

const READ_ROW = `SELECT registration_id AS registrationId, status, attempts, body, etag,
    sync_note AS syncNote, last_error_code AS lastErrorCode, last_error AS lastError,
    dps_error AS dpsError, dps_record AS dpsRecord
  FROM enrollments WHERE id = ?`;

/** One carried enrollment's answer, as its work-store row holds it. */
function resultOf(row: StoredRow | undefined, carried: BundleEnrollment): ReceiptResult {
  if (row === undefined) throw new Error(`enrollment ${carried.id} left the work store`);
  const base = {
    id: carried.id,
    registrationId: row.registrationId,
    bodySha256: bodySha256(row.body),
    // The schema counts the sends made here; the row also holds those made before export.
    attempts: Math.max(0, row.attempts - carried.attempts),
  };
  const code = row.lastErrorCode ?? undefined;
  const detail = clip(row.lastError ?? '', 4096);
  if (row.status === 'synced') {
    const how = howSynced(row.syncNote);
    // Never asked of DPS: the line must not take it for synced.
    if (how === 'unconfirmed') {
      return {
        ...base,
        outcome: 'pending',
        detail: 'an earlier version marked it synced without DPS confirming its enrollment group',
      };
    }
    return {
      ...base,
      outcome: 'synced',
      how,
      ...(row.etag !== null && { etag: clip(row.etag, 256) }),
      ...(row.syncNote !== null && { note: clip(row.syncNote, 1024) }),
    };
  }
  switch (row.status) {
    case 'failed': {
      const dpsError = jsonObject(row.dpsError);
      return {
        ...base,
        outcome: 'failed',
        code: code ?? 'SYNC_INTERNAL',
        detail,
        ...(dpsError && { dpsError }),
      };
    }
    case 'conflict':
      return { ...base, outcome: 'conflict', detail, dpsRecord: jsonObject(row.dpsRecord) ?? {} };
    case 'pending':
    case 'syncing':
      return {
        ...base,
        outcome: 'pending',
        ...(code !== undefined && { code }),
        ...(row.lastError !== null && { detail }),
      };
    default:
      throw new Error(`enrollment ${carried.id} is ${row.status} in the work store`);
  }
}

/** How a synced row got there, from the note outboxSyncStore.ts writes (NULL: we created it). */
function howSynced(
  note: string | null,
): 'created' | 'found' | 'replaced' | 'confirmed-by-group' | 'unconfirmed' {
  if (note === null) return 'created';
  if (note === 'found in DPS') return 'found';
  if (note === 'replaced in DPS') return 'replaced';
  if (note.startsWith('confirmed by enrollment group')) return 'confirmed-by-group';
  // An earlier version's group member, marked synced without a DPS call.
  if (note.startsWith('covered by enrollment group')) return 'unconfirmed';
  throw new Error(`unknown sync note "${note}"`);
}

/**
 * DPS's stored record or error as the receipt carries it. One that the receipt's schema would
 * refuse (above 64 KiB, or nested too deep; bundlePayload.ts) is left out, so a whole receipt is
 * never refused for one of them: the row's code and detail still say what happened, and DPS
 * holds the record itself.
 */
function jsonObject(text: string | null): Record<string, unknown> | undefined {
  if (text === null || Buffer.byteLength(text, 'utf8') > MAX_DPS_JSON_BYTES) return undefined;
  const parsed = dpsJsonObject.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The receipt we built must fit the schema the line station reads it with: a misfit here is a
 * defect of this machine, not damage, so it is no BundleError (whose text blames the file).
 */
function checkedReceipt(receipt: ReceiptPayload): ReceiptPayload {
  const parsed = receiptPayloadSchema.safeParse(receipt);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `the receipt built does not fit its schema: ${issue?.path.map(String).join('.')}: ${issue?.message}`,
  );
}
