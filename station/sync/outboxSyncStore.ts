import type Database from 'better-sqlite3';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import type { OutboxCounts } from '../line/lineTypes.js';
import { AuditLog } from '../store/auditLog.js';
import { OutboxListing } from '../store/outboxListing.js';
import { earlierIndividualOf } from '../store/retirementRules.js';
import type { OutboxRow } from './enrollmentRequest.js';
import { STATION_OWN_WAIT_SQL } from './retryWaits.js';
import type { SyncErrorCode } from './syncErrors.js';

/** DPS's own error of a row, kept for the supervisor. */
export interface DpsErrorRecord {
  status?: number;
  errorCode?: number;
  message?: string;
  trackingId?: string;
}

/** How a claimed (`syncing`) row leaves that state. */
export type Settlement =
  /**
   * DPS holds our enrollment: we created it, found it there, or replaced our earlier one; or,
   * for a group member, DPS showed the enrollment group that takes it. `note` says how on the
   * row (sync_note); without one, a `created` row has none and the others say `<how> in DPS`.
   */
  | {
      kind: 'synced';
      how: 'created' | 'found' | 'replaced' | 'confirmed-by-group';
      etag?: string;
      note?: string;
    }
  | { kind: 'failed'; code: SyncErrorCode; detail: string; dpsError?: DpsErrorRecord }
  /** DPS holds other credentials for the ID; its record (no secrets) is kept beside ours. */
  | { kind: 'conflict'; detail: string; dpsRecord: IndividualEnrollment }
  /** Back to `pending`, due at `at` (ms); `reconcile` when DPS may hold it already. */
  | { kind: 'retry'; code: SyncErrorCode; detail: string; at: number; reconcile: boolean };

const ROW = `id, registration_id AS registrationId, attestation, body,
  sealed_secret AS sealedSecret, attempts, needs_reconcile AS needsReconcile`;

/*
 * The claim takes the due pending rows (next_attempt_at NULL or past) oldest first by id. Read
 * in id order, a backlog that all waits out DPS (throttled, unreachable) is walked row by row on
 * every claim, 11 ms at 100,000 rows on the line's event loop; read through the pending-due
 * index (migration 003), never-tried rows (NULL) come in id order but past retry times come in
 * time order, to be sorted: 5 ms when 100,000 are due. So the claim first reads a short window
 * of the oldest pending rows, where due rows usually are (0.2 ms when it all waits); only when
 * it holds too few does it ask the index, taking the oldest NULL rows and the oldest past ones
 * and merging them by id, which reads every past retry time only in that rarer case.
 */
const DUE_WINDOW = 1024;
// Joined row by row in the window's order, so it stops at the `limit`th due row.
const DUE_IN_WINDOW_SQL = `SELECT ${ROW} FROM (SELECT id AS oldest, next_attempt_at AS at
      FROM enrollments INDEXED BY enrollments_by_status WHERE status = 'pending'
      ORDER BY id LIMIT @window)
    JOIN enrollments ON id = oldest WHERE at IS NULL OR at <= @now ORDER BY oldest LIMIT @limit`;
const DUE_BY_INDEX_SQL = `SELECT ${ROW} FROM enrollments WHERE id IN (
    SELECT id FROM (SELECT id FROM enrollments INDEXED BY enrollments_pending_due
      WHERE status = 'pending' AND next_attempt_at IS NULL ORDER BY id LIMIT @limit)
    UNION ALL
    SELECT id FROM (SELECT id FROM enrollments INDEXED BY enrollments_pending_due
      WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY id LIMIT @limit))
  ORDER BY id LIMIT @limit`;
/** Two seeks into the pending-due index: one never-tried row, or the earliest retry time. */
const ANY_DUE_SQL = `SELECT EXISTS (SELECT 1 FROM enrollments INDEXED BY enrollments_pending_due
    WHERE status = 'pending' AND next_attempt_at IS NULL)
  OR EXISTS (SELECT 1 FROM enrollments INDEXED BY enrollments_pending_due
    WHERE status = 'pending' AND next_attempt_at <= ?)`;

/** Reports how far the wall clock was set back since it was last asked (ms, 0 or less). */
export interface ClockSetBack {
  setBack(): number;
}

/**
 * The condition on a row of `table` (an enrollments table or its alias) that it is an earlier
 * enrollment of the registration ID bound to `?` that DPS may hold: superseded, and sent or
 * carried in an outbox bundle. Shared with the bundle export, which carries such rows.
 */
export function earlierMaybeInDps(table: string): string {
  return `${table}.registration_id = ? COLLATE NOCASE AND ${table}.status = 'superseded'
    AND (${table}.attempts > 0 OR ${table}.id IN (SELECT enrollment_id FROM bundle_enrollments))`;
}

/**
 * Our earlier enrollments of a registration ID, newest first, for the reconciler to compare with
 * what DPS holds. Only rows that were ever sent (attempts > 0), or carried to DPS in an outbox
 * bundle (whose receipt may not be back), can be what DPS holds; a device reworked many times
 * while offline has many superseded rows, all but the first never sent.
 * Asked once per re-provisioned device DPS already holds: it reads only that ID's superseded
 * rows through their index (migration 007), never the whole superseded history.
 */
export const SUPERSEDED_SQL = `SELECT ${ROW} FROM enrollments
  WHERE ${earlierMaybeInDps('enrollments')} ORDER BY id DESC`;

/**
 * How an earlier individual enrollment under registration ID `?` stands that keeps a group
 * member under that ID out of DPS (retirementRules.ts): `due`, to be deleted from DPS, first;
 * else `not-ours`, another party's record there. Through migration 007's index.
 */
const INDIVIDUAL_UNDER_MEMBER_SQL = `SELECT retirement FROM enrollments e
  WHERE ${earlierIndividualOf('e')} AND retirement IN ('due', 'not-ours')
  ORDER BY retirement = 'due' DESC LIMIT 1`;

type RawRow = Omit<OutboxRow, 'needsReconcile'> & { needsReconcile: 0 | 1 };
const toRow = (raw: RawRow): OutboxRow => ({ ...raw, needsReconcile: raw.needsReconcile === 1 });

/**
 * The sync worker's side of the outbox. Every change of a row's status is one transaction with
 * its audit event; a settlement only applies to a row still `syncing` under the claim it
 * belongs to (the attempt count its claim set), so nothing the worker learns late can overwrite
 * what happened to the row meanwhile: a reopen, a recovery, or a later claim of the same row.
 *
 * Audited: synced, failed, conflict and interrupted (found `syncing` at start). (Group members
 * an earlier version marked synced without asking DPS are reopened once, by migration 016.) A
 * retry is not: it changes nothing final, and a long outage would otherwise flood the
 * append-only trail; `attempts`, `last_error_code` and `next_attempt_at` show it on the row.
 */
export class OutboxSyncStore {
  private readonly audit: AuditLog;
  private readonly listing: OutboxListing;
  private readonly sql;
  private readonly claimTx: Database.Transaction<(limit: number) => OutboxRow[]>;
  private readonly settleTx: Database.Transaction<
    (settlements: [OutboxRow, Settlement][]) => number
  >;
  private readonly recoverTx: Database.Transaction<() => number>;
  private readonly shiftTx: Database.Transaction<(ms: number) => number>;
  /** A step back of the wall clock not yet taken off the waiting rows' retry times (ms). */
  private owedSetBack = 0;

  /**
   * `clockSteps` makes the retry times follow a wall clock set back (followClock); without it,
   * they stay as written.
   */
  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly clockSteps?: ClockSetBack,
  ) {
    this.audit = new AuditLog(db);
    this.listing = new OutboxListing(db);
    this.sql = {
      dueInWindow: db.prepare(DUE_IN_WINDOW_SQL),
      dueByIndex: db.prepare(DUE_BY_INDEX_SQL),
      markSyncing: db.prepare(`UPDATE enrollments SET status = 'syncing',
        attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'pending'`),
      anyDue: db.prepare(ANY_DUE_SQL).pluck(),
      // Named, or SQLite picks enrollments_by_status and scans every pending row (8 ms at
      // 20,000); the partial index answers with one seek.
      nextDue: db
        .prepare(
          `SELECT min(next_attempt_at) FROM enrollments INDEXED BY enrollments_pending_due
          WHERE status = 'pending' AND next_attempt_at > ?`,
        )
        .pluck(),
      interrupted: db.prepare(`UPDATE enrollments SET status = 'pending', needs_reconcile = 1,
          next_attempt_at = NULL, updated_at = ? WHERE status = 'syncing'
        RETURNING id, registration_id AS registrationId, attempts`),
      synced: db.prepare(`UPDATE enrollments SET status = 'synced', synced_at = ?, updated_at = ?,
          etag = ?, next_attempt_at = NULL, needs_reconcile = 0, last_error = NULL,
          last_error_code = NULL, dps_error = NULL, dps_record = NULL, sync_note = ?
        WHERE id = ? AND status = 'syncing' AND attempts = ?`),
      failed: db.prepare(`UPDATE enrollments SET status = 'failed', updated_at = ?,
          next_attempt_at = NULL, needs_reconcile = 0, last_error_code = ?, last_error = ?,
          dps_error = ? WHERE id = ? AND status = 'syncing' AND attempts = ?`),
      conflict: db.prepare(`UPDATE enrollments SET status = 'conflict', updated_at = ?, etag = ?,
          next_attempt_at = NULL, needs_reconcile = 0, last_error_code = 'SYNC_CONFLICT',
          last_error = ?, dps_record = ?, dps_error = NULL WHERE id = ? AND status = 'syncing' AND attempts = ?`),
      retry: db.prepare(`UPDATE enrollments SET status = 'pending', updated_at = ?,
          next_attempt_at = ?, needs_reconcile = ?, last_error_code = ?, last_error = ?
        WHERE id = ? AND status = 'syncing' AND attempts = ?`),
      superseded: db.prepare(SUPERSEDED_SQL),
      individualUnderMember: db.prepare(INDIVIDUAL_UNDER_MEMBER_SQL).pluck(),
      // updated_at stays: the row's problem keeps its date (`sync status`) until it is sent.
      releaseOwnWaits: db.prepare(`UPDATE enrollments SET next_attempt_at = NULL
        WHERE status = 'pending' AND next_attempt_at > ? AND ${STATION_OWN_WAIT_SQL}`),
      // ISO text in, the same ISO form out (milliseconds, Z), so the text order stays time order.
      shiftWaits: db.prepare(`UPDATE enrollments INDEXED BY enrollments_pending_due
        SET next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', next_attempt_at, ?)
        WHERE status = 'pending' AND next_attempt_at > ?`),
    };
    this.claimTx = db.transaction((limit: number) => this.claimRows(limit));
    this.settleTx = db.transaction((settlements: [OutboxRow, Settlement][]) =>
      settlements.reduce((n, [row, s]) => n + this.settleRow(row, s), 0),
    );
    this.recoverTx = db.transaction(() => this.recoverRows());
    this.shiftTx = db.transaction((ms: number) => this.shiftRows(ms));
  }

  /**
   * Rows left `syncing` by a crash (or a kill) between sending and marking: back to `pending`,
   * flagged so the worker reads DPS before sending them again. Called before the first claim of
   * each lease taken, and again until the database has taken it; a call after one it took finds
   * nothing.
   */
  recoverInterrupted(): number {
    this.followClock();
    return this.recoverTx.immediate();
  }

  /** Up to `limit` due pending rows, oldest first, marked `syncing` (attempts + 1) before any send. */
  claim(limit: number): OutboxRow[] {
    this.followClock();
    return this.claimTx.immediate(limit);
  }

  /** Applies settlements in one transaction; returns how many rows were still `syncing`. */
  settle(settlements: [OutboxRow, Settlement][]): number {
    if (settlements.length === 0) return 0;
    this.followClock();
    return this.settleTx.immediate(settlements);
  }

  /** Our earlier, superseded enrollments for a registration ID, newest first. */
  superseded(registrationId: string): OutboxRow[] {
    return (this.sql.superseded.all(registrationId) as RawRow[]).map(toRow);
  }

  /**
   * Whether an earlier individual enrollment of ours under a group member's registration ID is
   * still to be deleted from DPS (`due`) or found to be another party's (`not-ours`): either
   * keeps the member's device out, as DPS matches an individual enrollment before a group.
   */
  individualUnderMember(registrationId: string): 'due' | 'not-ours' | undefined {
    return this.sql.individualUnderMember.get(registrationId) as 'due' | 'not-ours' | undefined;
  }

  /**
   * Pending rows waiting out the station's own retry delay (retryWaits.ts) fall due now, for a
   * supervisor's "sync now"; rows waiting for DPS (Retry-After, throttled, failed) keep their
   * time. Returns how many.
   */
  releaseStationOwnWaits(): number {
    this.followClock();
    return this.sql.releaseOwnWaits.run(this.iso()).changes;
  }

  hasDue(): boolean {
    this.followClock();
    return this.sql.anyDue.get(this.iso()) === 1;
  }

  /** When the earliest waiting pending row falls due (ms), if one waits. */
  nextDueAt(): number | undefined {
    this.followClock();
    const at = this.sql.nextDue.get(this.iso()) as string | null;
    return at === null ? undefined : Date.parse(at);
  }

  counts(): OutboxCounts {
    return this.listing.counts();
  }

  /**
   * A retry time is a wall-clock time: a clock set back an hour (NTP correcting one that ran
   * ahead) would make every waiting row wait an hour more, and the worker's wake with them. The
   * rows still waiting move back by the step, each keeping the wait it had left; rows written
   * after are already on the corrected clock, hence the move before every read and write. A
   * refused move stays owed and is tried again at the next one.
   */
  private followClock(): void {
    if (this.clockSteps === undefined) return;
    this.owedSetBack += this.clockSteps.setBack();
    if (this.owedSetBack === 0) return;
    this.shiftTx.immediate(this.owedSetBack);
    this.owedSetBack = 0;
  }

  /** Moves the waiting rows' retry times by `ms` (negative); audited when any moved. */
  private shiftRows(ms: number): number {
    const shifted = this.sql.shiftWaits.run(
      `${(ms / 1000).toFixed(3)} seconds`,
      this.iso(),
    ).changes;
    if (shifted > 0) {
      this.event('outbox.retry-waits-shifted', 'outbox', {
        clockSetBackMs: -ms,
        rowsShifted: shifted,
        why: 'the wall clock was set back; each waiting row keeps the wait it had left',
      });
    }
    return shifted;
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /** The oldest `limit` due rows: from the window of oldest pending rows when it holds enough. */
  private dueRows(now: string, limit: number): RawRow[] {
    const window = Math.max(limit, DUE_WINDOW);
    const rows = this.sql.dueInWindow.all({ now, limit, window }) as RawRow[];
    return rows.length === limit ? rows : (this.sql.dueByIndex.all({ now, limit }) as RawRow[]);
  }

  private claimRows(limit: number): OutboxRow[] {
    const now = this.iso();
    const rows = this.dueRows(now, limit).map(toRow);
    for (const row of rows) this.sql.markSyncing.run(now, row.id);
    return rows.map((row) => ({ ...row, attempts: row.attempts + 1 }));
  }

  private recoverRows(): number {
    const now = this.iso();
    const rows = this.sql.interrupted.all(now) as {
      id: number;
      registrationId: string;
      attempts: number;
    }[];
    for (const row of rows) {
      this.event('enrollment.sync-interrupted', row.registrationId, {
        enrollmentId: row.id,
        attempts: row.attempts,
        next: 'read DPS before sending again',
      });
    }
    return rows.length;
  }

  private settleRow(row: OutboxRow, s: Settlement): number {
    const now = this.iso();
    const base = { enrollmentId: row.id, attempts: row.attempts };
    if (s.kind === 'retry') {
      const at = this.iso(s.at);
      return this.sql.retry.run(
        now,
        at,
        s.reconcile ? 1 : 0,
        s.code,
        s.detail,
        row.id,
        row.attempts,
      ).changes;
    }
    let changes: number;
    if (s.kind === 'synced') {
      const note = s.note ?? (s.how === 'created' ? null : `${s.how} in DPS`);
      changes = this.sql.synced.run(now, now, s.etag ?? null, note, row.id, row.attempts).changes;
      if (changes === 1) {
        this.event('enrollment.synced', row.registrationId, {
          ...base,
          how: s.how,
          ...(s.note !== undefined && { note: s.note }),
        });
      }
    } else if (s.kind === 'failed') {
      const dpsError = s.dpsError ? JSON.stringify(s.dpsError) : null;
      changes = this.sql.failed.run(now, s.code, s.detail, dpsError, row.id, row.attempts).changes;
      if (changes === 1) {
        this.event('enrollment.sync-failed', row.registrationId, {
          ...base,
          code: s.code,
          detail: s.detail,
          dpsError: s.dpsError ?? null,
        });
      }
    } else {
      const record = JSON.stringify(s.dpsRecord);
      const etag = s.dpsRecord.etag ?? null;
      changes = this.sql.conflict.run(now, etag, s.detail, record, row.id, row.attempts).changes;
      if (changes === 1) {
        this.event('enrollment.conflict', row.registrationId, {
          ...base,
          detail: s.detail,
          dpsAttestation: s.dpsRecord.attestation?.type ?? null,
          dpsEtag: etag,
        });
      }
    }
    return changes;
  }

  private event(kind: string, subject: string, detail: Record<string, unknown>): void {
    this.audit.append({ at: new Date(this.now()), actor: 'station', kind, subject, detail });
  }
}
