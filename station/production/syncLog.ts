/**
 * The line's log of DPS sync: what a supervisor watching `station serve` must notice, and why.
 * Every batch goes idle -> syncing -> idle, so only other transitions are logged; one into
 * offline or backoff carries the error as the sync worker words it. For a DPS certificate the
 * station refused, that text already says which check failed and, where a CA to trust is the
 * cure, names LINE_STATION_DPS_CA (station/sync/tlsRefusal.ts): the log adds nothing to it.
 *
 * A problem that lasts makes the worker try again and again (backoff -> syncing -> backoff every
 * few seconds): it is logged once, then again only when it changes, every SYNC_LOG_REMINDER_MS
 * while it lasts (with how many tries were not logged), and once when it is over, naming what
 * answers again (DPS, or the station database).
 *
 * Enrollments a batch settles as `conflict` or `failed` wait for a supervisor whatever the state
 * says (idle reads as "all sent"): each such batch is logged in one line (syncTroubleText.ts),
 * at most TROUBLE_LINES_PER_WINDOW in SYNC_LOG_REMINDER_MS; the batches past them are summed into
 * one line, logged when the worker goes idle or stops, or when the window allows.
 */
import type { CodedError } from '../line/lineTypes.js';
import type { SettledTrouble } from '../sync/settledTrouble.js';
import type { SyncState, SyncStateChange } from '../sync/syncTypes.js';
import { stationCommand } from '../cli/stationCommand.js';
import { troubleText, TroubleTally } from './syncTroubleText.js';

const ROUTINE = new Set<SyncState>(['idle', 'syncing']);
const TROUBLE = new Set<SyncState>(['offline', 'backoff']);

/** How often a problem that lasts is logged again. */
export const SYNC_LOG_REMINDER_MS = 10 * 60_000;

/** Batch lines of conflicts and failures logged per SYNC_LOG_REMINDER_MS, before summing. */
export const TROUBLE_LINES_PER_WINDOW = 10;

type LoggedChange = Pick<SyncStateChange, 'state' | 'previous'> & { at?: string };

interface Problem {
  key: string;
  code: string;
  /** When it was first logged, and last (ms). */
  since: number;
  loggedAt: number;
  /** Tries that ended in it since it was last logged. */
  unlogged: number;
}

/** The sync log of one worker: remembers the problem it logged, so a repeat is not logged. */
export class SyncLog {
  private problem: Problem | undefined;
  /** When the batch lines of the current window were logged (ms). */
  private troubleLoggedAt: number[] = [];
  private readonly tally: TroubleTally;

  /** @param dataDir the station's data folder, named by the log's commands if not the default */
  constructor(private readonly dataDir?: string) {
    this.tally = new TroubleTally(dataDir);
  }

  /**
   * The log line for a batch whose rows ended `conflict` or `failed` (the worker's onTrouble),
   * or undefined when this window has had its lines: the batch is then summed for later.
   */
  trouble(trouble: SettledTrouble): string | undefined {
    const now = Date.parse(trouble.at);
    if (!this.mayLogTrouble(now)) {
      this.tally.add(trouble);
      return undefined;
    }
    return joined(this.tally.take(), troubleText(trouble, this.dataDir));
  }

  /** The log line for a sync state change, or undefined for a routine one or a repeat. */
  line(
    change: LoggedChange,
    lastError: CodedError | undefined,
    heldUntil?: string,
  ): string | undefined {
    // Idle or stopped, the backlog is done: what was summed is said now, whatever the window.
    const summed = change.state === 'idle' || change.state === 'stopped' ? this.tally.take() : '';
    return joined(summed, this.stateLine(change, lastError, heldUntil));
  }

  private stateLine(
    change: LoggedChange,
    lastError: CodedError | undefined,
    heldUntil: string | undefined,
  ): string | undefined {
    const { state, previous } = change;
    const now = change.at === undefined ? Date.now() : Date.parse(change.at);
    const transition = `DPS sync: ${previous} -> ${state}`;
    // A worker starting (announced by "DPS sync: on") or stopping begins afresh.
    if (previous === 'stopped' || state === 'stopped') this.problem = undefined;
    if (previous === 'stopped' && ROUTINE.has(state)) return undefined;
    const problem = this.problem;
    if (TROUBLE.has(state) && lastError !== undefined)
      return this.problemLine(change, lastError, now);
    if (problem !== undefined && lastError === undefined && state !== 'paused') {
      // The worker clears its error when a batch succeeds, or when its database reads again or,
      // after refusing, takes a write (syncFailures.ts).
      this.problem = undefined;
      const tries = problem.unlogged > 0 ? `; ${problem.unlogged} more try(s) ended in it` : '';
      return `${transition}: ${recovered(problem.code)}; the problem [${problem.code}] logged since ${iso(problem.since)} is over${tries}`;
    }
    // Trying again while the problem lasts: its outcome is what counts.
    if (problem !== undefined && TROUBLE.has(previous) && state === 'syncing') return undefined;
    if (ROUTINE.has(state) && ROUTINE.has(previous)) return undefined;
    // A backoff with no error of the worker: rows wait out their own retry times (`queue list`).
    if (state === 'backoff' && lastError === undefined) {
      const until = heldUntil === undefined ? '' : ` (calls held until ${heldUntil})`;
      return `${transition}: some enrollments wait for their next try${until}; \`${stationCommand('queue list', this.dataDir)}\` shows when`;
    }
    return transition;
  }

  /**
   * The reminder of a problem that lasts while the worker's state stands still (offline, every
   * probe failing, changes no state), once SYNC_LOG_REMINDER_MS after it was last logged. The
   * station asks every minute.
   */
  remind(state: SyncState, lastError: CodedError | undefined, now: number): string | undefined {
    // A backlog still being sent: its summed batches once the window allows a line again.
    const summed = !this.tally.empty && this.mayLogTrouble(now) ? this.tally.take() : undefined;
    return joined(summed, this.reminder(state, lastError, now));
  }

  private reminder(
    state: SyncState,
    lastError: CodedError | undefined,
    now: number,
  ): string | undefined {
    const problem = this.problem;
    if (problem === undefined || lastError === undefined || !TROUBLE.has(state)) return undefined;
    if (problemKey(lastError) !== problem.key) return undefined;
    if (now - problem.loggedAt < SYNC_LOG_REMINDER_MS) return undefined;
    return this.problemLine(
      { previous: state, state, at: new Date(now).toISOString() },
      lastError,
      now,
    );
  }

  /** Whether a batch line may be logged at `now`; counts it when it may. */
  private mayLogTrouble(now: number): boolean {
    this.troubleLoggedAt = this.troubleLoggedAt.filter((at) => now - at < SYNC_LOG_REMINDER_MS);
    if (this.troubleLoggedAt.length >= TROUBLE_LINES_PER_WINDOW) return false;
    this.troubleLoggedAt.push(now);
    return true;
  }

  private problemLine(change: LoggedChange, error: CodedError, now: number): string | undefined {
    const key = problemKey(error);
    const earlier = this.problem;
    if (earlier?.key === key && now - earlier.loggedAt < SYNC_LOG_REMINDER_MS) {
      earlier.unlogged++;
      return undefined;
    }
    const still =
      earlier?.key === key
        ? ` (still, since ${iso(earlier.since)}; ${earlier.unlogged} more try(s) ended in it since it was last logged)`
        : '';
    this.problem = {
      key,
      code: error.code,
      since: earlier?.key === key ? earlier.since : now,
      loggedAt: now,
      unlogged: 0,
    };
    const detail = error.detail ?? '';
    return `DPS sync: ${change.previous} -> ${change.state}: ${error.message} [${error.code}]${still}${detail ? `\n  detail: ${detail}` : ''}`;
  }
}

/**
 * What makes a problem the same one: its code and text, and the first code its detail names (a
 * store's STORE_DISK_FULL after STORE_BUSY, ENOTFOUND after ECONNREFUSED), since a sync code's
 * text alone is the same for each of them.
 */
function problemKey(error: CodedError): string {
  const cause = /\b(?:STORE|SQLITE|ERR|DPS)_[A-Z_]+\b|\bE[A-Z]{3,}\b/.exec(error.detail ?? '');
  return `${error.code}\n${error.message}\n${cause?.[0] ?? ''}`;
}

/**
 * What answers again once a problem is over, in the log's words: a supervisor who was told of a
 * lock or a disk must not read that DPS was the problem.
 */
function recovered(code: string): string {
  switch (code) {
    case 'SYNC_STORE_BUSY':
      return 'the station database is free again';
    case 'SYNC_STORE_FAILED':
      return 'the station database reads and records again';
    case 'SYNC_INTERNAL':
      return 'the sync works again';
    default:
      return 'DPS answers again';
  }
}

/** Lines to log together, or undefined when there are none. */
function joined(...lines: (string | undefined)[]): string | undefined {
  const text = lines.filter((line) => line !== undefined && line !== '').join('\n');
  return text === '' ? undefined : text;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
