/**
 * A LineController for the API's own tests: fixed slots, records every command, and lets the
 * test emit events or make a command throw. Not used outside tests.
 */
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { LineController, StationStatus, SyncAction } from '../line/lineController.js';
import type { OutboxCounts, RecentRunsQuery, RunView, SlotView } from '../line/lineTypes.js';

export class RecordingLine implements LineController {
  readonly calls: string[] = [];
  readonly onSlotChanged = new TypedEvent<SlotView>();
  readonly onOutboxChanged = new TypedEvent<OutboxCounts>();
  readonly onStatusChanged = new TypedEvent<StationStatus>();
  /** When set, the next command throws it. */
  throwNext: unknown;
  /** What `recentRuns` answers, whatever the query (which it records). */
  runs: RunView[] = [];
  #status: StationStatus = {
    demo: true,
    profile: 'demo-sensor',
    mode: 'auto',
    ca: { locked: false, subject: 'CN=DEMO Issuing CA', daysLeft: 364 },
    notes: [],
  };
  #slots: SlotView[] = [1, 2].map((slot) => ({
    slot,
    port: `/dev/pts/${slot}`,
    state: 'waiting' as const,
    progress: 0,
    updatedAt: 1_700_000_000_000,
  }));

  status(): StationStatus {
    return this.#status;
  }
  slots(): SlotView[] {
    return this.#slots;
  }
  outboxCounts(): OutboxCounts {
    return { pending: 1, syncing: 0, synced: 2, failed: 0, conflict: 0 };
  }
  recentRuns(query: RecentRunsQuery): RunView[] {
    this.#record(`recentRuns ${query.limit}${query.failedOnly ? ' failed' : ''}`);
    return this.runs;
  }
  setMode(mode: 'auto' | 'manual'): void {
    this.#record(`setMode ${mode}`);
    this.#status = { ...this.#status, mode };
    this.onStatusChanged.emit(this.#status);
  }
  provision(slot: number): void {
    this.#record(`provision ${slot}`);
  }
  cancel(slot: number): void {
    this.#record(`cancel ${slot}`);
  }
  controlSync(action: SyncAction): void {
    this.#record(`sync ${action}`);
  }

  #record(call: string): void {
    const error = this.throwNext;
    this.throwNext = undefined;
    if (error !== undefined) throw error;
    this.calls.push(call);
  }
}
