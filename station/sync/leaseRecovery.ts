import type { OutboxSyncStore } from './outboxSyncStore.js';
import type { LeaseHolder, SyncLease } from './syncLease.js';

/**
 * The sync worker's step before any claim: hold the lease (syncLease.ts) and, once it is held,
 * put back the rows an earlier holder left `syncing`. Until they are recovered, no row is
 * claimed: a refusal of the database throws, and the worker's pump() reports it and looks again
 * after a backoff.
 */
export class LeaseRecovery {
  /**
   * Whether the rows an earlier holder left `syncing` were put back since the lease was last
   * taken. Set only once the database took that recovery: one it refused is asked again at the
   * next look, or those rows would stay `syncing` for good while newer rows sync.
   */
  private recovered = false;

  constructor(
    private readonly lease: Pick<SyncLease, 'hold'>,
    private readonly store: Pick<OutboxSyncStore, 'recoverInterrupted'>,
  ) {}

  /** Holds the lease and recovers; who keeps it from this worker, or undefined when held. */
  hold(): LeaseHolder | undefined {
    const held = this.lease.hold();
    if ('holder' in held) return held.holder;
    // Taken (again): whoever held it before may have left rows in flight.
    if (held.justTaken) this.recovered = false;
    if (!this.recovered) {
      this.store.recoverInterrupted();
      this.recovered = true;
    }
    return undefined;
  }
}
