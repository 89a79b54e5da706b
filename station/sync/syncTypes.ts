import type { CodedError, OutboxCounts } from '../line/lineTypes.js';

/**
 * Where the worker is:
 * - `stopped`: not started, or stopped;
 * - `idle`: running, nothing due;
 * - `syncing`: at least one batch in flight;
 * - `backoff`: waiting out Retry-After or a backoff (DPS throttled or failed, or every pending
 *   row waits for its retry time);
 * - `offline`: DPS could not be reached; the worker probes again with backoff;
 * - `paused`: a person paused it; nothing is sent until resume.
 */
export type SyncState = 'idle' | 'syncing' | 'backoff' | 'offline' | 'paused' | 'stopped';

/** What the worker last learnt about reaching DPS. */
export type DpsConnection = 'unknown' | 'online' | 'offline';

/** Counts since start(). */
export interface SyncSession {
  /**
   * Enrollments DPS confirmed: created, found already there, or replaced; and group members
   * whose enrollment group DPS showed to take them.
   */
  synced: number;
  /** Of `synced`, the group members (their group read from DPS, nothing sent for them). */
  groupConfirmed: number;
  failed: number;
  conflicts: number;
  /** DPS calls made (each one operation against the rate limit). */
  operations: number;
}

/** A session with nothing done yet, as each start() begins one. */
export const emptySession = (): SyncSession => ({
  synced: 0,
  groupConfirmed: 0,
  failed: 0,
  conflicts: 0,
  operations: 0,
});

/** The worker's report, on every change (`onProgress`) and on demand (`status()`). */
export interface SyncProgress {
  state: SyncState;
  connection: DpsConnection;
  /** Live outbox rows per status. */
  counts: OutboxCounts;
  session: SyncSession;
  /**
   * The last worker-level error (DPS down, throttled, credentials refused, the database refused),
   * until what caused it is over: a batch succeeds, or, after a database refusal, the database
   * counts or takes a write again.
   */
  lastError?: CodedError & { at: string };
  /** When calls may start again, while held by Retry-After or backoff (ISO 8601). */
  heldUntil?: string;
  /**
   * With heldUntil: whether DPS asked for that hold (Retry-After, throttled, failed), as opposed
   * to the station's own backoff after a cause on its side (retryWaits.ts).
   */
  heldByDps?: boolean;
}

export interface SyncStateChange {
  state: SyncState;
  previous: SyncState;
  connection: DpsConnection;
  /** ISO 8601. */
  at: string;
}
