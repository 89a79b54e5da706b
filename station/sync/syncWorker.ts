import { MAX_BULK_ITEMS } from '../../dps/service/serviceTypes.js';
import { IsolatedEvent } from '../line/isolatedEvent.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
import { syncBatch, type BatchOutcome } from './batchSync.js';
import type { ReconcileContext } from './dpsReconciler.js';
import { EnrollmentGroupChecks } from './enrollmentGroupCheck.js';
import type { OutboxRow } from './enrollmentRequest.js';
import {
  isLastingStoreFailure,
  unfinishedSettlements,
  type FailureVerdict,
} from './failurePolicy.js';
import { LeaseRecovery } from './leaseRecovery.js';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { SyncLease, type LeaseHolder } from './syncLease.js';
import { SyncNowRequests } from './syncNowRequests.js';
import { retirementTurns } from './retirementTurns.js';
import type { RetirementPass } from './supersededRetirement.js';
import { rateLimitedDps } from './rateLimitedDps.js';
import type { SettledTrouble } from './settledTrouble.js';
import { SettlementBook } from './settlementBook.js';
import { DPS_RATE_LIMIT, SlidingWindowLimiter, type CallEnded } from './slidingWindowLimiter.js';
import { systemClock, WallClockSteps, type SyncClock } from './syncClock.js';
import { SyncError } from './syncErrors.js';
import { SyncFailures } from './syncFailures.js';
import type { SyncWorkerOptions } from './syncWorkerOptions.js';
import {
  emptySession,
  type DpsConnection,
  type SyncProgress,
  type SyncState,
  type SyncStateChange,
} from './syncTypes.js';

export type { SyncWorkerOptions } from './syncWorkerOptions.js';

/**
 * Drains the enrollment outbox to DPS (ARCHITECTURE step 8). Rows are claimed oldest first in
 * batches of up to MAX_BULK_ITEMS, marked `syncing` before anything is sent, and each ends
 * `synced`, `failed`, `conflict` or back in `pending`; a row is never lost and never marked synced
 * unless DPS said so (for a group member: showed its enrollment group, enabled, with the
 * station's group key). Rows found `syncing` at start or whose send got no answer are read back
 * from DPS before they are sent again. When no batch is due, enrollments superseded under an old
 * registration ID are disabled in DPS (supersededRetirement.ts). One worker per database.
 */
export class SyncWorker {
  readonly onProgress = new IsolatedEvent<SyncProgress>();
  readonly onStateChange = new IsolatedEvent<SyncStateChange>();
  /** A batch's rows ended `conflict` or `failed`: they wait for a supervisor (the line's log). */
  readonly onTrouble = new IsolatedEvent<SettledTrouble>();

  private readonly clock: SyncClock;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly store: OutboxSyncStore;
  /** Held, this worker alone may claim and settle rows of this database. */
  private readonly lease: SyncLease;
  /** Holds the lease, then puts back the rows an earlier holder left `syncing`. */
  private readonly leaseRecovery: LeaseRecovery;
  private readonly limiter: SlidingWindowLimiter;
  private readonly context: ReconcileContext;
  /** What DPS showed of group members' enrollment groups, kept a minute (a pass's worth). */
  private readonly groups: EnrollmentGroupChecks;
  private readonly retirements: ReturnType<typeof retirementTurns>;
  private readonly inFlight = new Set<Promise<void>>();
  private state: SyncState = 'stopped';
  private connection: DpsConnection = 'unknown';
  private abort = new AbortController();
  private session = emptySession();
  /** What went wrong: the error reported, consecutive failures, whose hold (syncFailures.ts). */
  private readonly failures: SyncFailures;
  private cancelWake: (() => void) | undefined;
  /** What DPS answered, on its way into the outbox (kept while the database refuses). */
  private readonly settlements: SettlementBook;
  private readonly syncNowRequests = new SyncNowRequests();

  constructor(options: SyncWorkerOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError('concurrency must be a positive integer');
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    const steps = new WallClockSteps(this.clock);
    this.store = new OutboxSyncStore(options.db, () => this.clock.now(), steps);
    this.lease = new SyncLease(options.db, () => this.clock.now());
    this.leaseRecovery = new LeaseRecovery(this.lease, this.store);
    this.limiter = new SlidingWindowLimiter(options.limit ?? DPS_RATE_LIMIT, this.clock);
    this.failures = new SyncFailures({
      clock: this.clock,
      backoff: this.backoff,
      random: this.random,
      limiter: this.limiter,
      syncNowRequests: this.syncNowRequests,
    });
    this.settlements = new SettlementBook({
      store: this.store,
      failures: this.failures,
      now: () => this.clock.now(),
      onTrouble: (trouble) => this.onTrouble.emit(trouble),
    });
    const gate = async (): Promise<CallEnded> => {
      const ended = await this.limiter.acquire(this.abort.signal);
      this.session.operations++;
      return ended;
    };
    const dps = rateLimitedDps(options.dps, gate);
    this.groups = new EnrollmentGroupChecks({
      dps,
      keys: options.groupKeys,
      now: () => this.clock.now(),
    });
    this.context = {
      dps,
      store: this.store,
      openSecret: options.openSecret,
      groups: this.groups,
      retryAt: (attempts) => this.clock.now() + backoffDelay(attempts, this.backoff, this.random),
      onAnswered: () => {
        if (this.connection === 'online') return;
        this.connection = 'online';
        this.refreshState();
      },
    };
    const retirementParts = {
      db: options.db,
      openSecret: options.openSecret,
      now: () => this.clock.now(),
      dps,
      retryMs: this.pollIntervalMs,
      onAnswered: () => this.context.onAnswered?.(),
    };
    this.retirements = retirementTurns(retirementParts);
  }

  /**
   * Starts draining once it holds the sync lease (syncLease.ts), which another process's worker
   * on the same database may hold: until that one ends, this one reports SYNC_WORKER_ELSEWHERE
   * and looks again at each poll. With the lease, rows left `syncing` by an earlier process are
   * flagged to be read back, so await stop() before starting again: its calls in flight would
   * otherwise be taken for a crash.
   */
  start(): void {
    if (this.state !== 'stopped') return;
    if (this.inFlight.size > 0) throw new Error('the sync worker is still stopping');
    this.abort = new AbortController();
    this.session = emptySession();
    this.groups.forget();
    this.failures.restart();
    this.connection = 'unknown';
    this.setState('idle');
    this.pump();
  }

  /** Stops: no new call starts; resolves once the calls in flight have ended and are recorded. */
  async stop(): Promise<void> {
    if (this.state !== 'stopped') this.halt('stopped', new SyncError('SYNC_STOPPED'));
    await this.drain();
    try {
      this.settlements.record(this.session);
    } catch {
      // Still refused: the rows stay `syncing`, and the next start reads them back from DPS.
      this.settlements.drop();
    }
    this.lease.release();
  }

  /** Pauses like stop, but keeps the session; resume() goes on. */
  async pause(): Promise<void> {
    if (this.state !== 'stopped' && this.state !== 'paused') {
      this.halt('paused', new SyncError('SYNC_PAUSED'));
    }
    await this.drain();
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.abort = new AbortController();
    this.setState('idle');
    this.pump();
  }

  /**
   * Sends what is due now and resolves when no due pending row is left (rows waiting for a
   * retry time do not count). The station's own waits are cut short: an offline probe backoff,
   * and the hold and the rows' retry times after a cause on this side (an untrusted DPS
   * certificate, refused credentials, the clock; retryWaits.ts), since a supervisor asking has
   * likely just fixed it. Retry-After, and every wait after DPS throttled or failed, stands.
   * Rejects with SyncError SYNC_OFFLINE (SYNC_DPS_HOST_UNKNOWN when its host name does not
   * resolve) when DPS cannot be reached, SYNC_PAUSED or SYNC_STOPPED.
   */
  syncNow(): Promise<SyncProgress> {
    if (this.state === 'stopped' || this.state === 'paused') {
      return Promise.reject(
        new SyncError(this.state === 'paused' ? 'SYNC_PAUSED' : 'SYNC_STOPPED'),
      );
    }
    this.failures.cutOwnHold();
    this.groups.forget();
    const done = this.syncNowRequests.ask();
    this.pump();
    return done;
  }

  /** New rows were committed: look now instead of at the next poll. */
  notify(): void {
    this.pump();
  }

  status(): SyncProgress {
    const held = this.limiter.heldUntil;
    const counts = this.failures.readCounts(() => this.store.counts());
    const lastError = this.failures.lastError;
    return {
      state: this.state,
      connection: this.connection,
      counts,
      session: { ...this.session },
      ...(lastError && { lastError }),
      ...(held > 0 && {
        heldUntil: new Date(held).toISOString(),
        heldByDps: this.failures.heldByDps(held),
      }),
    };
  }

  /** Claims due rows into free lanes, then sleeps until something can be due. */
  private pump(): void {
    if (this.state === 'stopped' || this.state === 'paused') return;
    this.cancelWake?.();
    this.cancelWake = undefined;
    try {
      if (!this.holdLease()) return;
      this.settlements.record(this.session);
      if (this.syncNowRequests.takeRelease()) this.store.releaseStationOwnWaits();
      const held = this.limiter.heldUntil;
      if (held === 0) {
        const lanes = this.failures.count > 0 ? 1 : this.concurrency;
        while (this.inFlight.size < lanes) {
          const rows = this.store.claim(MAX_BULK_ITEMS);
          // Claimed under the write lock: a lock is over; rows written: a full disk too.
          this.failures.storeTookWrite(rows.length > 0 ? 'rows' : 'lock');
          if (rows.length === 0) break;
          this.launch(rows);
        }
        if (this.inFlight.size === 0) {
          const pass = this.retirements.due();
          if (pass) this.retire(pass);
        }
      }
      if (this.inFlight.size === 0) {
        const now = this.clock.now();
        if (held === 0 && !this.settlements.waiting && !this.store.hasDue()) {
          this.syncNowRequests.settle(() => this.status());
        }
        const wakeAt =
          held || Math.min(this.store.nextDueAt() ?? Infinity, now + this.pollIntervalMs);
        this.cancelWake = this.clock.setTimer(() => this.pump(), wakeAt - now);
      }
    } catch (err) {
      // The database refused (disk, lock): report it and look again after a backoff. A "sync
      // now" waits out a lock, but is told of a disk someone has to free rather than hang.
      const verdict = this.failed(err);
      if (isLastingStoreFailure(err)) {
        this.syncNowRequests.reject(new SyncError('SYNC_STORE_FAILED', verdict.error.detail));
      }
      const wait = Math.max(this.backoff.baseMs, this.limiter.heldUntil - this.clock.now());
      this.cancelWake = this.clock.setTimer(() => this.pump(), wait);
    }
    this.refreshState();
  }

  private launch(rows: OutboxRow[]): void {
    this.track(syncBatch(rows, this.context).then((outcome) => this.finish(outcome)));
  }

  /**
   * Retires what is due (superseded rows, or revoked certificates' rows); a pass counts as a
   * batch only if it failed or DPS settled a row.
   */
  private retire(passes: { run(): Promise<RetirementPass> }): void {
    const pass = passes.run();
    const ended = ({ failure, settled }: { failure?: unknown; settled: number }) =>
      (failure !== undefined || settled > 0) &&
      this.finish({ settled: [], unfinished: [], failure });
    this.track(pass.then((outcome) => void ended(outcome)));
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((err: unknown) => {
        // Only recording can fail here (the database): the next look records it again.
        this.failed(err);
      })
      .finally(() => {
        this.inFlight.delete(tracked);
        this.pump();
        this.emitProgress();
      });
    this.inFlight.add(tracked);
  }

  private finish(outcome: BatchOutcome): void {
    const now = this.clock.now();
    const verdict =
      outcome.failure === undefined ? undefined : this.failures.judgeBatch(outcome.failure);
    this.settlements.add([
      ...outcome.settled,
      ...unfinishedSettlements(outcome.unfinished, verdict, now),
    ]);
    // DPS's verdict (its Retry-After hold) first: a database that refuses the record throws.
    this.failures.batchEnded(verdict);
    if (verdict?.offline) this.connection = 'offline';
    this.settlements.record(this.session);
  }

  /**
   * Takes the lease on the first look, then keeps it fresh. When another process holds it, says
   * so, fails "sync now" and looks again after a poll interval; false until it is taken. Until
   * the rows an earlier holder left `syncing` are recovered, no row is claimed: a refusal of the
   * database throws, and pump() reports it and looks again after a backoff.
   */
  private holdLease(): boolean {
    const holder = this.leaseRecovery.hold();
    if (holder) this.refusedByLease(holder);
    return holder === undefined;
  }

  private refusedByLease(holder: LeaseHolder): void {
    const error = new SyncError(
      'SYNC_WORKER_ELSEWHERE',
      `process ${holder.pid} on ${holder.host} holds the sync lease`,
    );
    this.failures.refusedByLease(error);
    this.cancelWake = this.clock.setTimer(() => this.pump(), this.pollIntervalMs);
    this.emitProgress();
  }

  /** A failure outside a batch's outcome: reported, and DPS offline if it could not be reached. */
  private failed(err: unknown): FailureVerdict {
    const verdict = this.failures.failed(err);
    if (verdict.offline) this.connection = 'offline';
    return verdict;
  }

  private halt(state: 'stopped' | 'paused', reason: SyncError): void {
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.abort.abort(reason);
    this.setState(state);
    this.syncNowRequests.reject(reason);
  }

  private async drain(): Promise<void> {
    // Bounded: once halted, no batch starts, so the set only shrinks.
    for (let guard = 0; this.inFlight.size > 0 && guard < 1_000; guard++) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private refreshState(): void {
    if (this.state === 'stopped' || this.state === 'paused') return;
    if (this.connection === 'offline') this.setState('offline');
    else if (this.inFlight.size > 0) this.setState('syncing');
    else if (this.limiter.heldUntil > 0 || this.dueLater()) this.setState('backoff');
    else this.setState('idle');
  }

  /**
   * Whether a pending row waits for a retry time. Called from timers and promise callbacks,
   * where a throw would end the process: a database that refuses the read counts as waiting.
   */
  private dueLater(): boolean {
    try {
      return this.store.nextDueAt() !== undefined;
    } catch {
      return true;
    }
  }

  private setState(state: SyncState): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    const at = new Date(this.clock.now()).toISOString();
    this.onStateChange.emit({ state, previous, connection: this.connection, at });
    this.emitProgress();
  }

  private emitProgress(): void {
    if (this.onProgress.listenerCount > 0) this.onProgress.emit(this.status());
  }
}
