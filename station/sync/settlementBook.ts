import type { OutboxRow } from './enrollmentRequest.js';
import type { OutboxSyncStore, Settlement } from './outboxSyncStore.js';
import { settledTrouble, type SettledTrouble } from './settledTrouble.js';
import type { SyncFailures } from './syncFailures.js';
import type { SyncSession } from './syncTypes.js';

/**
 * What DPS answered for the sync worker's rows, on its way into the outbox. Answers the database
 * refused to record (locked, disk full) are kept and recorded at the next look: their rows stay
 * `syncing` meanwhile, so nothing claims them twice.
 */
export class SettlementBook {
  private unrecorded: [OutboxRow, Settlement][] = [];

  constructor(
    private readonly parts: {
      store: Pick<OutboxSyncStore, 'settle'>;
      failures: Pick<SyncFailures, 'storeTookWrite'>;
      now: () => number;
      /** Rows settled `conflict` or `failed` wait for a supervisor (the line's log). */
      onTrouble: (trouble: SettledTrouble) => void;
    },
  ) {}

  add(settlements: readonly [OutboxRow, Settlement][]): void {
    this.unrecorded.push(...settlements);
  }

  /** Whether answers wait to be recorded. */
  get waiting(): boolean {
    return this.unrecorded.length > 0;
  }

  /**
   * Records what waits, counted into `session`; throws, keeping it for the next look, if the
   * database refuses. Recorded, the database takes writes again: a refusal it reported is over.
   */
  record(session: SyncSession): void {
    if (this.unrecorded.length === 0) return;
    const { store, failures, now, onTrouble } = this.parts;
    const applied = store.settle(this.unrecorded);
    failures.storeTookWrite('rows');
    if (applied === 0) {
      // The store dropped every answer: no row was `syncing` under this claim any more (another
      // process recovered them after the lease was lost, or they were revoked or reopened), so
      // DPS settled nothing the station counts or reports. The store returns only how many it
      // applied: when it drops some of a batch, which ones cannot be told here.
      this.unrecorded = [];
      return;
    }
    for (const [, s] of this.unrecorded) {
      if (s.kind === 'synced') session.synced++;
      if (s.kind === 'synced' && s.how === 'confirmed-by-group') session.groupConfirmed++;
      else if (s.kind === 'failed') session.failed++;
      else if (s.kind === 'conflict') session.conflicts++;
    }
    const trouble = settledTrouble(this.unrecorded, now());
    this.unrecorded = [];
    if (trouble) onTrouble(trouble);
  }

  /** Gives up what waits (a stop the database still refuses): the next start reads those rows back from DPS. */
  drop(): void {
    this.unrecorded = [];
  }
}
