/**
 * A LineController test double for the UI tests: four slots the test moves through a run step
 * by step (so the page is checked at each stage without sleeping), and a record of every command
 * the UI sends, as an event the test can await.
 */
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { SyncAction } from '../../station/line/lineController.js';
import type { LineController, StationStatus } from '../../station/line/lineController.js';
import type {
  CodedError,
  OutboxCounts,
  RecentRunsQuery,
  RunView,
  SlotView,
} from '../../station/line/lineTypes.js';

/** The operator text the failing slot shows; the test looks for it on the page. */
export const FAIL_ERROR: CodedError = {
  code: 'DEVICE_KEY_MISMATCH',
  message: 'The device answered with a different key. Unplug it, plug it in again and retry.',
  detail: 'challenge signature did not verify against the issued certificate',
};

/** Why a cancelled run stopped, as the line reports it (runErrors' RUN_CANCELLED). */
export const CANCEL_ERROR: CodedError = {
  code: 'RUN_CANCELLED',
  message: 'The run was cancelled. The device keeps its previous identity.',
};

export class ScriptedLine implements LineController {
  readonly onSlotChanged = new TypedEvent<SlotView>();
  readonly onOutboxChanged = new TypedEvent<OutboxCounts>();
  readonly onStatusChanged = new TypedEvent<StationStatus>();
  /** Every command the UI sent, as `provision 4`, `cancel 2`, `setMode manual`. */
  readonly onCommand = new TypedEvent<string>();
  readonly commands: string[] = [];

  #status: StationStatus = {
    demo: true,
    profile: 'demo-sensor (X.509, device key)',
    mode: 'auto',
    ca: { locked: false, subject: 'CN=Line Station DEMO Issuing CA', daysLeft: 364 },
    notes: ['Ports were found by scanning /dev: the OS port list was unavailable.'],
  };
  #outbox: OutboxCounts = { pending: 0, syncing: 0, synced: 5, failed: 0, conflict: 0 };
  #slots: Map<number, SlotView>;
  /** When set, `provision` refuses with this error, as the line does for a busy or absent slot. */
  refuseProvision: CodedError | undefined;
  /** The sync actions `controlSync` refuses, each with its error. */
  readonly refuseSync = new Map<SyncAction, CodedError>();
  /** The runs that ended, newest first, as `recentRuns` lists them. */
  #runs: RunView[] = [];
  /** When each run in progress started (ms), by run id. */
  #started = new Map<number, number>();
  #nextRunId = 1;

  /** `slotCount` waiting slots on /dev/pts/11 onwards (four, unless a test needs a full line). */
  constructor(slotCount = 4) {
    this.#slots = new Map(
      Array.from({ length: slotCount }, (_, i): [number, SlotView] => {
        const slot = i + 1;
        return [
          slot,
          { slot, port: `/dev/pts/${10 + slot}`, state: 'waiting', progress: 0, updatedAt: 0 },
        ];
      }),
    );
  }

  status(): StationStatus {
    return this.#status;
  }
  slots(): SlotView[] {
    return [...this.#slots.values()];
  }
  outboxCounts(): OutboxCounts {
    return this.#outbox;
  }
  recentRuns(query: RecentRunsQuery): RunView[] {
    const runs = this.#runs.filter((run) => !query.failedOnly || run.state !== 'pass');
    return runs.slice(0, query.limit);
  }
  setMode(mode: 'auto' | 'manual'): void {
    this.#record(`setMode ${mode}`);
    this.#status = { ...this.#status, mode };
    this.onStatusChanged.emit(this.#status);
  }
  provision(slot: number): void {
    this.#record(`provision ${slot}`);
    if (this.refuseProvision) throw Object.assign(new Error(), this.refuseProvision);
    this.#set(slot, {
      state: 'running',
      step: 'identify',
      progress: 0,
      error: undefined,
      runId: this.#nextRunId++,
    });
  }
  cancel(slot: number): void {
    this.#record(`cancel ${slot}`);
    this.#set(slot, { state: 'cancelled', step: undefined, error: CANCEL_ERROR });
  }
  controlSync(action: SyncAction): void {
    this.#record(`sync ${action}`);
    const refused = this.refuseSync.get(action);
    if (refused) throw Object.assign(new Error(), refused);
    // A line with a DPS sync reports the pause or resume as its status, as the real one does.
    const sync = this.#status.sync;
    if (!sync || action === 'now') return;
    this.reportSync({ ...sync, state: action === 'pause' ? 'paused' : 'idle' });
  }

  /** The line's DPS sync as it reports it (absent: a line without a DPS connection). */
  reportSync(sync: StationStatus['sync']): void {
    this.#status = { ...this.#status, sync };
    this.onStatusChanged.emit(this.#status);
  }

  /** The header's counts of the day's runs, as the line reports them at each run's end. */
  reportToday(today: NonNullable<StationStatus['today']>): void {
    this.#status = { ...this.#status, today };
    this.onStatusChanged.emit(this.#status);
  }

  /** The CA as the line reports it, e.g. one that expired while the line runs. */
  reportCa(ca: StationStatus['ca']): void {
    this.#status = { ...this.#status, ca };
    this.onStatusChanged.emit(this.#status);
  }

  /** A running slot's run sends its COMMIT to the device: the last step, past cancelling. */
  reachCommit(slot: number): void {
    this.#set(slot, { state: 'running', step: 'commit', progress: 0.95 });
  }

  /** Every slot starts its run and reaches the attest step, half way. */
  startAll(): void {
    for (const slot of this.#slots.keys()) {
      this.#set(slot, {
        state: 'running',
        step: 'identify',
        progress: 0,
        runId: this.#nextRunId++,
        serialNumber: `SN-00${slot}`,
        model: 'demo-sensor',
      });
      this.#set(slot, {
        state: 'running',
        step: 'attest',
        progress: 0.5,
        registrationId: `demo-sensor-sn-00${slot}`,
      });
    }
  }

  /** Every slot fails with FAIL_ERROR. */
  failAll(): void {
    for (const slot of this.#slots.keys()) {
      this.#set(slot, { state: 'fail', step: 'verify', progress: 0.8, error: FAIL_ERROR });
    }
  }

  /** Slot `slot` fails with `error` (FAIL_ERROR unless given, e.g. a held board's). */
  fail(slot: number, error: CodedError = FAIL_ERROR): void {
    this.#set(slot, { state: 'fail', step: undefined, progress: 0, error });
  }

  /** Slots 1–3 pass (outbox grows by three), slot 4 fails with FAIL_ERROR. */
  finishAll(): void {
    for (const slot of [1, 2, 3]) this.#set(slot, { state: 'pass', step: undefined, progress: 1 });
    this.#set(4, { state: 'fail', step: 'verify', progress: 0.8, error: FAIL_ERROR });
    this.#outbox = { ...this.#outbox, pending: this.#outbox.pending + 3 };
    this.onOutboxChanged.emit(this.#outbox);
  }

  /** Resolves with the next command the UI sends. */
  nextCommand(): Promise<string> {
    return new Promise((resolve) => {
      const dispose = this.onCommand.on((command) => {
        dispose();
        resolve(command);
      });
    });
  }

  #record(command: string): void {
    this.commands.push(command);
    this.onCommand.emit(command);
  }

  #set(slot: number, change: Partial<SlotView>): void {
    const current = this.#slots.get(slot);
    if (!current) throw new Error(`no slot ${slot}`);
    const next: SlotView = { ...current, ...change, updatedAt: Date.now() };
    this.#slots.set(slot, next);
    this.#keepRun(current, next);
    this.onSlotChanged.emit(next);
  }

  /** Keeps the run a slot change ended (or the start of one it began), as a store would. */
  #keepRun(before: SlotView, after: SlotView): void {
    const { runId } = after;
    if (runId === undefined) return;
    if (after.state === 'running') {
      if (!this.#started.has(runId)) this.#started.set(runId, after.updatedAt);
      return;
    }
    if (before.state !== 'running' || after.state === 'waiting' || after.state === 'empty') return;
    const startedAt = this.#started.get(runId) ?? after.updatedAt;
    this.#started.delete(runId);
    const run: RunView = {
      runId,
      port: after.port,
      state: after.state,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(after.updatedAt).toISOString(),
    };
    if (after.serialNumber !== undefined) run.serialNumber = after.serialNumber;
    if (after.model !== undefined) run.model = after.model;
    if (after.registrationId !== undefined) run.registrationId = after.registrationId;
    if (after.error !== undefined) run.error = after.error;
    this.#runs.unshift(run);
  }
}
