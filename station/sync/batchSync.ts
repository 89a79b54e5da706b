import { DpsError, dpsErrorCodeForStatus } from '../../dps/dpsErrors.js';
import type { BulkResult } from '../../dps/service/serviceTypes.js';
import {
  bulkItemStatus,
  describeDpsError,
  dpsErrorRecord,
  isWorkerLevel,
  noticingAnswer,
  outcomeUnknown,
} from './dpsOutcome.js';
import {
  reconcileWithDps,
  withoutSecrets,
  type BatchCalls,
  type ReconcileContext,
} from './dpsReconciler.js';
import {
  memberGroupId,
  memberGroupKeyFingerprint,
  memberSettlement,
} from './enrollmentGroupCheck.js';
import { prepareEnrollment, type OutboxRow, type PreparedEnrollment } from './enrollmentRequest.js';
import type { Settlement } from './outboxSyncStore.js';
import { SyncError, type SyncErrorCode } from './syncErrors.js';

/** The attestation of outbox rows that DPS knows through their enrollment group only. */
export const GROUP_MEMBER = 'symmetric-key-group';

/** What one batch achieved. Every claimed row is either settled or unfinished. */
export interface BatchOutcome {
  settled: [OutboxRow, Settlement][];
  /** Rows the batch could not finish; `reconcile` when DPS may hold them now. */
  unfinished: { row: OutboxRow; reconcile: boolean }[];
  /** The worker-level error that stopped the batch (DPS down, throttled, cancelled, a bug). */
  failure?: unknown;
}

/**
 * Sends one claimed batch (at most MAX_BULK_ITEMS rows, all `syncing`):
 * 1. prepares each request (unsealing symmetric keys);
 * 2. reads DPS first for rows it may already hold (an earlier send whose answer was lost);
 * 3. creates the rest in ONE bulk call, then settles each item by its result: success is synced
 *    (bulk returns no etag, and a GET only for it would cost an operation; the etag is read when
 *    an update needs it), 409 is reconciled by reading DPS, 408/429/5xx retry, other 4xx fail;
 *    when DPS answered every item of a call of several 429 or 5xx, the batch ends as for a
 *    whole-call 429/5xx;
 * 4. a whole-call 400 of several items is retried item by item, so one bad enrollment does not
 *    fail its neighbours;
 * 5. settles symmetric-key group members by what DPS shows of their enrollment group
 *    (enrollmentGroupCheck.ts): synced only when DPS confirmed it, failed when the group is
 *    missing or will not take them; nothing is sent for them.
 * Never throws: a worker-level error ends the batch as `failure`, its rows `unfinished`.
 */
export async function syncBatch(rows: OutboxRow[], ctx: ReconcileContext): Promise<BatchOutcome> {
  return new BatchRun(rows, ctx).run();
}

/** A bulk item DPS throttled (429) or failed (5xx): retried, alone or with the whole batch. */
interface RefusedItem {
  item: PreparedEnrollment;
  status: number;
  detail: string;
}

class BatchRun implements BatchCalls {
  private readonly settled = new Map<number, Settlement>();
  /** Whether DPS may hold the row's enrollment without the station knowing. */
  private readonly mayHold = new Map<number, boolean>();

  constructor(
    private readonly rows: OutboxRow[],
    private readonly ctx: ReconcileContext,
  ) {
    for (const row of rows) this.mayHold.set(row.id, row.needsReconcile);
  }

  async run(): Promise<BatchOutcome> {
    let failure: unknown;
    try {
      const toCreate: PreparedEnrollment[] = [];
      for (const item of await this.prepare()) {
        if (!this.mayHold.get(item.row.id)) toCreate.push(item);
        else if (await this.reconcile(item)) toCreate.push(item);
      }
      for (const item of await this.create(toCreate)) {
        // DPS said 409 a moment ago; if the record is gone now, try again shortly.
        if (await this.reconcile(item)) this.retry(item.row, 'record vanished after 409', false);
      }
      await this.settleGroupMembers();
    } catch (err) {
      failure = err;
    }
    const unfinished = this.rows
      .filter((row) => !this.settled.has(row.id))
      .map((row) => ({ row, reconcile: this.mayHold.get(row.id) ?? true }));
    return {
      settled: this.rows.flatMap((row) => {
        const s = this.settled.get(row.id);
        return s ? [[row, s] as [OutboxRow, Settlement]] : [];
      }),
      unfinished,
      ...(failure !== undefined && { failure }),
    };
  }

  ask<T>(call: () => Promise<T>): Promise<T> {
    return noticingAnswer(call, () => this.ctx.onAnswered?.());
  }

  async send<T>(items: PreparedEnrollment[], call: () => Promise<T>): Promise<T> {
    const before = items.map((item) => this.mayHold.get(item.row.id) ?? true);
    for (const item of items) this.mayHold.set(item.row.id, true);
    try {
      return await this.ask(call);
    } catch (err) {
      // Refused or never sent: DPS holds no more than before.
      if (!outcomeUnknown(err)) {
        items.forEach((item, i) => this.mayHold.set(item.row.id, before[i]!));
      }
      throw err;
    }
  }

  private async prepare(): Promise<PreparedEnrollment[]> {
    const ready: PreparedEnrollment[] = [];
    for (const row of this.rows) {
      if (row.attestation === GROUP_MEMBER) continue;
      try {
        ready.push(await prepareEnrollment(row, this.ctx.openSecret));
      } catch (err) {
        if (!(err instanceof SyncError)) throw err;
        if (err.code === 'SYNC_SECRET_LOCKED') {
          this.retry(row, err.detail ?? err.code, row.needsReconcile, err.code);
        } else {
          this.settled.set(row.id, { kind: 'failed', code: err.code, detail: err.detail ?? '' });
        }
      }
    }
    return ready;
  }

  /**
   * Each group asked once (the worker keeps its look a while), and its members compared by the
   * group key each one's device key was derived from, as its row recorded it: rows provisioned
   * before and after a key replacement get different verdicts. DPS unreachable or refusing the
   * station is thrown like any worker-level error, and the members stay pending.
   */
  private async settleGroupMembers(): Promise<void> {
    const byKey = new Map<string, { id: string; recorded?: string; members: OutboxRow[] }>();
    for (const row of this.rows) {
      if (row.attestation !== GROUP_MEMBER) continue;
      const id = memberGroupId(row.body);
      const recorded = memberGroupKeyFingerprint(row.body);
      if (id === undefined || recorded.kind === 'invalid') {
        const detail = `enrollment ${row.id}: a group member whose body names no ${id === undefined ? 'enrollment group' : 'valid group key fingerprint'}`;
        this.settled.set(row.id, { kind: 'failed', code: 'SYNC_BODY_INVALID', detail });
        continue;
      }
      const fingerprint = recorded.kind === 'recorded' ? recorded.fingerprint : undefined;
      const key = `${id.toLowerCase()}\0${fingerprint ?? ''}`;
      const entry = byKey.get(key) ?? {
        id,
        ...(fingerprint !== undefined && { recorded: fingerprint }),
        members: [],
      };
      entry.members.push(row);
      byKey.set(key, entry);
    }
    for (const { id, recorded, members } of byKey.values()) {
      let settle: (row: OutboxRow) => void;
      try {
        const verdict = await this.ctx.groups.verdict(id, (call) => this.ask(call), recorded);
        settle = (row) => this.settled.set(row.id, memberSettlement(verdict, id));
        if (verdict.kind === 'confirmed') {
          const confirmed = settle;
          settle = (row) => this.afterIndividualUnder(row, confirmed);
        }
      } catch (err) {
        if (err instanceof SyncError && err.code === 'SYNC_GROUP_KEY_UNAVAILABLE') {
          const detail = err.detail ?? err.code;
          settle = (row) => this.retry(row, detail, false, 'SYNC_GROUP_KEY_UNAVAILABLE');
        } else if (!isWorkerLevel(err)) {
          // DPS refused this read for the group's sake (an ID it will not take): its members fail.
          const dpsError = err as DpsError;
          settle = (row) =>
            this.settled.set(row.id, {
              kind: 'failed',
              code: 'SYNC_DPS_REJECTED',
              detail: describeDpsError(dpsError),
              dpsError: dpsErrorRecord(dpsError),
            });
        } else throw err;
      }
      for (const row of members) await settle(row);
    }
  }

  /**
   * A member its group confirmed, unless an individual enrollment under its registration ID
   * keeps its device out (DPS matches one before any group, enabled or disabled): one of ours
   * still to be deleted (retirementRules.ts) makes it wait for that; another party's found
   * there makes it a conflict, with DPS's record. Read from DPS only in that second case.
   */
  private async afterIndividualUnder(
    row: OutboxRow,
    confirmed: (row: OutboxRow) => void,
  ): Promise<void> {
    const individual = this.ctx.store.individualUnderMember(row.registrationId);
    if (individual === 'due') {
      const why = `the earlier individual enrollment under ${row.registrationId} is not deleted from DPS yet (queue list --status superseded says why)`;
      this.retry(row, why, false, 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST');
      return;
    }
    const record =
      individual === 'not-ours'
        ? await this.ask(() => this.ctx.dps.getEnrollment(row.registrationId))
        : undefined;
    if (record === undefined) return confirmed(row);
    this.settled.set(row.id, {
      kind: 'conflict',
      detail: `DPS holds an individual enrollment under ${row.registrationId} with other credentials, and DPS takes the device to it before its enrollment group: delete it in DPS if it is no longer wanted, then requeue`,
      dpsRecord: withoutSecrets(record),
    });
  }

  /** Settles the row from what DPS holds; true when DPS holds nothing (create it). */
  private async reconcile(item: PreparedEnrollment): Promise<boolean> {
    const outcome = await reconcileWithDps(item, this.ctx, this);
    if (outcome === 'absent') {
      this.mayHold.set(item.row.id, false);
      return true;
    }
    this.settled.set(item.row.id, outcome);
    return false;
  }

  /** Bulk-creates `items`; returns those DPS answered 409 for. */
  private async create(items: PreparedEnrollment[]): Promise<PreparedEnrollment[]> {
    if (items.length === 0) return [];
    let result: BulkResult;
    try {
      const enrollments = items.map((item) => item.enrollment);
      result = await this.send(items, () => this.ctx.dps.bulkEnrollments('create', enrollments));
    } catch (err) {
      if (!(err instanceof DpsError) || err.code !== 'DPS_BAD_REQUEST') throw err;
      if (items.length === 1) {
        this.settled.set(items[0]!.row.id, {
          kind: 'failed',
          code: 'SYNC_DPS_REJECTED',
          detail: describeDpsError(err),
          dpsError: dpsErrorRecord(err),
        });
        return [];
      }
      const conflicts: PreparedEnrollment[] = [];
      for (const item of items) conflicts.push(...(await this.create([item])));
      return conflicts;
    }
    if (!Array.isArray(result?.errors) || (!result.isSuccessful && result.errors.length === 0)) {
      // Never mark synced on an answer that does not say which items succeeded.
      throw new DpsError('DPS_RESPONSE_INVALID', {
        detail: 'bulk create reported failure without item errors',
      });
    }
    const sent = new Set(items.map((item) => item.row.registrationId.toLowerCase()));
    const stray = result.errors.find(
      (e) => typeof e?.registrationId !== 'string' || !sent.has(e.registrationId.toLowerCase()),
    );
    if (stray !== undefined) {
      // An error for an item the batch did not send means the answer cannot be matched to what
      // was sent: the failure it reports may be one of ours under another name, and an item read
      // as "no error" would be marked synced without DPS holding it. Thrown after the call, so
      // the rows stay unfinished with DPS possibly holding them, and are read back first.
      throw new DpsError('DPS_RESPONSE_INVALID', {
        detail: `bulk create reported an error for a registration ID the batch did not send: ${JSON.stringify(stray?.registrationId ?? null).slice(0, 160)}`,
      });
    }
    const errors = new Map(result.errors.map((e) => [e.registrationId.toLowerCase(), e]));
    const conflicts: PreparedEnrollment[] = [];
    const refused: RefusedItem[] = [];
    for (const item of items) {
      const error = errors.get(item.row.registrationId.toLowerCase());
      if (error === undefined) {
        this.settled.set(item.row.id, { kind: 'synced', how: 'created' });
        continue;
      }
      const status = bulkItemStatus(error.errorCode);
      // The SDKs document an answer that lists every item, the created ones as 200 "Succeeded"
      // (dps-protocol.md §1.5 shows only the failed ones): either way, a 2xx item is created.
      if (status >= 200 && status < 300) {
        this.settled.set(item.row.id, { kind: 'synced', how: 'created' });
        continue;
      }
      const detail = `bulk item ${error.errorCode}: ${error.errorStatus}`;
      if (status === 409) conflicts.push(item);
      else if (status === 429 || status >= 500) refused.push({ item, status, detail });
      else if (status === 408) this.retry(item.row, detail, true);
      else {
        this.settled.set(item.row.id, {
          kind: 'failed',
          code: 'SYNC_DPS_REJECTED',
          detail,
          dpsError: { status, errorCode: error.errorCode, message: error.errorStatus },
        });
      }
    }
    // One item refused is that row's own retry, as it always was: a row resent alone after a
    // 400 must not hold its batch's other rows, which follow it one by one, nor a batch of one
    // row wait for the worker's hold rather than its own backoff.
    if (items.length > 1 && refused.length === items.length) throw this.refusedEvery(refused);
    for (const { item, status, detail } of refused) this.retry(item.row, detail, status !== 429);
    return conflicts;
  }

  /**
   * DPS throttled or failed every item of a bulk call: for the worker, the same as a whole-call
   * 429 or 5xx (a hold that grows with its backoff, the error reported), not a batch that went
   * well and lets the next one start at once. The rows stay unfinished and wait out that hold; a
   * 5xx item, as a whole-call 5xx, may have been applied. A bulk answer carries no Retry-After for
   * its items, so the hold is the backoff's.
   */
  private refusedEvery(refused: RefusedItem[]): DpsError {
    for (const { item, status } of refused) this.mayHold.set(item.row.id, status !== 429);
    const worst = refused.find((r) => r.status !== 429) ?? refused[0]!;
    return new DpsError(dpsErrorCodeForStatus(worst.status), {
      status: worst.status,
      detail: `DPS refused every item of a bulk create (${refused.length}), as ${worst.detail}`,
    });
  }

  private retry(
    row: OutboxRow,
    detail: string,
    reconcile: boolean,
    code: Extract<
      SyncErrorCode,
      | 'SYNC_DPS_RETRY'
      | 'SYNC_SECRET_LOCKED'
      | 'SYNC_GROUP_KEY_UNAVAILABLE'
      | 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST'
    > = 'SYNC_DPS_RETRY',
  ): void {
    this.mayHold.set(row.id, reconcile);
    this.settled.set(row.id, {
      kind: 'retry',
      code,
      detail,
      at: this.ctx.retryAt(row.attempts),
      reconcile,
    });
  }
}
