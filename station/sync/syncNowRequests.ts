import type { SyncProgress } from './syncTypes.js';

/**
 * The "sync now" calls a worker has not answered yet, and what they asked of it: send what is
 * due, and first let the rows waiting out the station's own retry delay fall due
 * (retryWaits.ts). That release is done at the worker's next look that holds the sync lease, so
 * no other process's rows are touched; a call answered with a refusal before then releases
 * nothing in its name.
 */
export class SyncNowRequests {
  #waiters: { resolve(progress: SyncProgress): void; reject(err: unknown): void }[] = [];
  #releaseOwnWaits = false;

  /** A new "sync now": settled or rejected with the others. */
  ask(): Promise<SyncProgress> {
    this.#releaseOwnWaits = true;
    return new Promise<SyncProgress>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Whether the station's own waits are to be released now; true once per request. */
  takeRelease(): boolean {
    const release = this.#releaseOwnWaits;
    this.#releaseOwnWaits = false;
    return release;
  }

  /** Nothing due is left: every call is answered with `progress()`, read only if one waits. */
  settle(progress: () => SyncProgress): void {
    if (this.#waiters.length === 0) return;
    const answer = progress();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(answer);
  }

  /** Every call fails with `err` (offline, a person needed, stopped, another worker). */
  reject(err: unknown): void {
    this.#releaseOwnWaits = false;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }
}
