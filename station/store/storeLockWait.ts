import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { isStoreBusy, StoreError } from './storeError.js';

/**
 * Waiting for another program's lock on the station database without stopping the station.
 *
 * better-sqlite3 is synchronous: a connection's busy_timeout waits for a lock inside the call,
 * on the one thread that also reads every serial port and answers the UI. A supervisor's command
 * holding the lock for seconds (queue requeue, bundle receive, ca issue, sqlite3) then froze
 * the whole station, and healthy devices failed WIRE_TIMEOUT behind it. A long-running station
 * therefore gives up on a lock at once (busy_timeout 0) and waits here instead, on a timer, at
 * the writes a run makes; one-shot commands keep their blocking busy_timeout.
 */

/** How long a write that meets the lock may wait for it in all. */
export interface StoreLockWait {
  /** After this (ms) the write fails STORE_BUSY: the slot must not wait for ever. */
  maxWaitMs: number;
}

/**
 * Long enough for a supervisor's command to finish (they hold the lock for one transaction),
 * short enough that a run blocked by a forgotten `sqlite3` ends with a code that says so.
 */
export const DEFAULT_STORE_LOCK_WAIT: Readonly<StoreLockWait> = Object.freeze({
  maxWaitMs: 20_000,
});

/** The first look again after a refusal, doubled up to the last: quick for a brief lock. */
const FIRST_RETRY_MS = 10;
const LONGEST_RETRY_MS = 250;

/**
 * busy_timeout of a connection that shares its thread with the serial ports and the UI: SQLite
 * answers SQLITE_BUSY at once instead of sleeping the whole process; waitOutStoreLock waits.
 */
export const SHARED_THREAD_BUSY_TIMEOUT_MS = 0;

/** Makes `db` give up on a lock at once (a long-running station, after its start-up writes). */
export function stopBlockingOnLocks(db: Database.Database): void {
  db.pragma(`busy_timeout = ${SHARED_THREAD_BUSY_TIMEOUT_MS}`);
}

/**
 * Runs `write`, and while it is refused STORE_BUSY runs it again on a timer until `wait` has
 * passed; then throws the last refusal. A write taken at once (every one on a healthy line)
 * costs no clock read and no timer. Each try is one whole transaction, so a refused one left
 * nothing behind. `write` is told whether a STORE_BUSY refusal of this try is the last one, the
 * one no try follows: a write that keeps what it could not write (recordFailure) keeps only that
 * one, or another write could record it between two tries and the next try find it done.
 * `signal` ends the wait between tries with its reason: a run cancelled, stopped or unplugged
 * while it waits to begin has nothing to wait for. Without it the wait always runs its course.
 */
export async function waitOutStoreLock<T>(
  write: (lastTry: boolean) => T | Promise<T>,
  wait: StoreLockWait = DEFAULT_STORE_LOCK_WAIT,
  signal?: AbortSignal,
): Promise<T> {
  let since: number | undefined;
  let delay = FIRST_RETRY_MS;
  let lastTry = wait.maxWaitMs <= 0;
  for (;;) {
    try {
      return await write(lastTry);
    } catch (err) {
      if (!isStoreBusy(err)) throw err;
      if (lastTry) throw waitedFor(err, wait.maxWaitMs);
      since ??= performance.now();
      const left = since + wait.maxWaitMs - performance.now();
      // Decided here, not by the clock after the try: the try it announces is then the last.
      lastTry = left <= delay;
      await pause(Math.max(0, Math.min(delay, left)), signal);
      delay = Math.min(delay * 2, LONGEST_RETRY_MS);
    }
  }
}

/** Sleeps `ms`; throws `signal`'s reason as soon as it fires. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal && { signal });
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}

/** The last refusal, its detail saying how long it was waited for (for the log). */
function waitedFor(err: unknown, ms: number): unknown {
  if (!(err instanceof StoreError)) return err;
  const seconds = Math.round(ms / 100) / 10;
  return new StoreError(
    'STORE_BUSY',
    `${err.detail ?? err.message} (another program still held the lock after ${seconds} s of waiting)`,
    { cause: err },
  );
}
