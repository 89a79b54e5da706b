import type { OutboxCounts } from '../line/lineTypes.js';
import type { BackoffPolicy } from './backoff.js';
import { judgeFailure, needsAPerson, type FailureVerdict } from './failurePolicy.js';
import { isStationOwnWait } from './retryWaits.js';
import type { SlidingWindowLimiter } from './slidingWindowLimiter.js';
import type { SyncClock } from './syncClock.js';
import { SyncError, type SyncErrorCode } from './syncErrors.js';
import type { SyncNowRequests } from './syncNowRequests.js';
import type { SyncProgress } from './syncTypes.js';

/** The codes of a database that refused the worker (failurePolicy.ts), not of DPS. */
const STORE_REFUSALS: ReadonlySet<SyncErrorCode> = new Set([
  'SYNC_STORE_BUSY',
  'SYNC_STORE_FAILED',
]);

/** The error a worker reports, stamped with when it happened. */
export type ReportedError = NonNullable<SyncProgress['lastError']>;

/** What a SyncFailures keeps its books against: the worker's clock, limiter and callers. */
export interface SyncFailuresParts {
  clock: SyncClock;
  backoff: BackoffPolicy;
  random: () => number;
  limiter: SlidingWindowLimiter;
  syncNowRequests: SyncNowRequests;
}

/**
 * The sync worker's books of what went wrong (syncWorker.ts): the error it reports
 * (`lastError`) and when that is over, the consecutive failures its backoff grows with, the
 * holds they put on DPS calls and whose they are, and the "sync now" calls a failure answers.
 * Kept apart from the worker's loop so that each way an error ends is written down in one place.
 */
export class SyncFailures {
  private inARow = 0;
  private error: ReportedError | undefined;
  /** What readCounts last reported, if anything: a count that works again clears it. */
  private countsError: ReportedError | undefined;
  /**
   * What the database's refusal of a look or a record last reported (a lock, a full disk): the
   * next write it takes clears it. Nothing else would when nothing is left to send, since only
   * a batch that succeeds clears an error, and the worker then went idle showing it for good.
   */
  private storeError: ReportedError | undefined;
  /**
   * The end of the latest hold DPS asked for or caused (Retry-After, a backoff after it throttled
   * or failed): "sync now" cuts the station's own holds (an offline probe, a backoff after an
   * untrusted certificate, refused credentials or a wrong clock) only down to it, even when they
   * were set after it.
   */
  private dpsHoldUntil = 0;
  /** The latest counts read: what status() reports while the database refuses reads. */
  private counts: OutboxCounts = { pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 };

  constructor(private readonly parts: SyncFailuresParts) {}

  /** Consecutive failed batches; after one, a single batch probes before full concurrency. */
  get count(): number {
    return this.inARow;
  }

  /** The worker-level error to report, until what caused it is over. */
  get lastError(): ReportedError | undefined {
    return this.error;
  }

  /** A new session (start()): no failure counted, no error reported. */
  restart(): void {
    this.inARow = 0;
    this.error = undefined;
  }

  /** Whether DPS asked for the hold that ends at `heldUntil`, rather than the station. */
  heldByDps(heldUntil: number): boolean {
    return this.dpsHoldUntil >= heldUntil;
  }

  /** A supervisor's "sync now": the station's own hold ends, a hold DPS asked for stands. */
  cutOwnHold(): void {
    const { limiter } = this.parts;
    if (limiter.heldUntil > this.dpsHoldUntil) limiter.clearHold(this.dpsHoldUntil);
  }

  /** How the failure that ended a batch is judged, as the next consecutive one. */
  judgeBatch(err: unknown): FailureVerdict {
    const { backoff, random } = this.parts;
    return judgeFailure(err, this.inARow + 1, backoff, random);
  }

  /**
   * A batch's outcome is recorded: a success ends the failures and clears the error; a failure
   * (not a pause or stop) counts, and is reported.
   */
  batchEnded(verdict: FailureVerdict | undefined): void {
    if (!verdict) {
      this.inARow = 0;
      this.error = undefined;
    } else if (!verdict.cancelled) {
      this.inARow++;
      this.report(verdict);
    }
  }

  /** A failure outside a batch's outcome (the database refused a look or a record): counted. */
  failed(err: unknown): FailureVerdict {
    const { backoff, random } = this.parts;
    const verdict = judgeFailure(err, ++this.inARow, backoff, random);
    this.report(verdict);
    return verdict;
  }

  /**
   * The database took a write: its refusal, if that is still what is reported, is over. `rows`:
   * rows were written (DPS's answers recorded, rows claimed), which ends a full disk or a
   * read-only file as well as a lock; `lock`: only the write lock was taken (a claim that found
   * no row writes nothing), which ends a lock and nothing else.
   */
  storeTookWrite(what: 'rows' | 'lock'): void {
    if (this.error === undefined || this.error !== this.storeError) return;
    if (what === 'lock' && this.error.code !== 'SYNC_STORE_BUSY') return;
    this.error = undefined;
  }

  /** Another process holds the sync lease: said, and "sync now" fails (the rows are its). */
  refusedByLease(error: SyncError): void {
    this.error = this.stamped(error.toJSON());
    this.parts.syncNowRequests.reject(error);
  }

  /** The outbox counts, or the latest ones read when the database refuses (never throws). */
  readCounts(read: () => OutboxCounts): OutboxCounts {
    try {
      this.counts = read();
      if (this.error === this.countsError) this.error = undefined; // the refusal passed
    } catch (err) {
      const { backoff, random } = this.parts;
      const { error } = judgeFailure(err, this.inARow, backoff, random);
      this.error = this.countsError = this.stamped(error);
    }
    return { ...this.counts };
  }

  /** Reports `verdict`: its error, the hold it puts on DPS calls, and the callers it answers. */
  private report(verdict: FailureVerdict): void {
    const { clock, limiter, syncNowRequests } = this.parts;
    const now = clock.now();
    this.error = this.stamped(verdict.error);
    if (STORE_REFUSALS.has(verdict.rowCode)) this.storeError = this.error;
    limiter.holdUntil(now + verdict.holdMs);
    if (!isStationOwnWait(verdict.rowCode)) {
      this.dpsHoldUntil = Math.max(this.dpsHoldUntil, now + verdict.holdMs);
    }
    // Offline (SYNC_OFFLINE, or a host name that does not resolve), a "sync now" has nothing to
    // wait for; refused credentials, an untrusted DPS or a wrong clock need a person, and its
    // caller (the CLI) must say so instead of hanging.
    if (verdict.offline || needsAPerson(verdict)) {
      const code = verdict.rowCode;
      // Which certificate check failed (issuer or host name) is in the verdict's text alone.
      const precise = code === 'SYNC_DPS_UNTRUSTED' ? { message: verdict.error.message } : {};
      syncNowRequests.reject(new SyncError(code, verdict.error.detail, precise));
    }
  }

  private stamped(error: Omit<ReportedError, 'at'>): ReportedError {
    return { ...error, at: new Date(this.parts.clock.now()).toISOString() };
  }
}
