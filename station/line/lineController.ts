import type { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { DayTallyView } from './dayTally.js';
import type { CodedError, OutboxCounts, RecentRunsQuery, RunView, SlotView } from './lineTypes.js';

/** The outbox sync to DPS as every UI shows it. */
export interface SyncStatusView {
  /**
   * idle, syncing, backoff (Retry-After or retry wait), offline, paused, stopped; `locked`: a
   * DPS connection is stored, and the sync starts with the line once it is unlocked.
   */
  state: 'idle' | 'syncing' | 'backoff' | 'offline' | 'paused' | 'stopped' | 'locked';
  connection: 'unknown' | 'online' | 'offline';
  /** The last worker-level problem (DPS down, throttled, credentials refused), until a success. */
  lastError?: CodedError;
  /** While calls wait for Retry-After or backoff: until when (ISO 8601). */
  heldUntil?: string;
}

/** What a supervisor may ask of the sync. */
export type SyncAction = 'pause' | 'resume' | 'now';

/** What the station tells every UI about itself (no secrets). */
export interface StationStatus {
  /** True on the DEMO line: simulated devices, DEMO CA, DEMO DPS settings. */
  demo: boolean;
  /** The product profile the line provisions. */
  profile: string;
  /** `auto`: every device that appears is provisioned; `manual`: an operator starts each run. */
  mode: 'auto' | 'manual';
  /**
   * The station CA. `unused` is set on a running line whose profile issues no certificates
   * (symmetric keys): its CA stays locked, and that is as it should be.
   */
  ca: { locked: boolean; subject: string; daysLeft: number; unused?: true };
  /** Operator-facing notes, e.g. why ports were found by scanning /dev. */
  notes: string[];
  /** Absent while the line has no DPS connection (offline by configuration). */
  sync?: SyncStatusView;
  /** How the line's runs ended today (since local midnight); absent while the line is locked. */
  today?: DayTallyView;
  /**
   * Present while the line waits for the CA passphrase before it starts (a locked start): no
   * port is open and the slots are empty until a supervisor unlocks it (`unlock`).
   */
  awaitingPassphrase?: true;
}

/**
 * The line as the station API drives it. The line engine implements it; the API server and the
 * Electron bridge only ever talk to this interface.
 */
export interface LineController {
  status(): StationStatus;
  slots(): SlotView[];
  outboxCounts(): OutboxCounts;
  setMode(mode: 'auto' | 'manual'): void;
  /** Starts a run on a slot that holds a device and is not running (manual mode, or a retry). */
  provision(slot: number): void;
  /**
   * Cancels the run on a slot; the device keeps its previous identity (nothing committed).
   * Refused with LINE_RUN_COMMITTING once COMMIT went to the device: that run ends by itself.
   */
  cancel(slot: number): void;
  /**
   * The latest runs that ended (pass, fail, cancelled; never one still running), newest first:
   * what a technician reads to find which device failed and why after its slot moved on.
   */
  recentRuns(query: RecentRunsQuery): RunView[];
  /** Pauses, resumes or hurries the outbox sync; LINE_SYNC_NOT_CONFIGURED without one. */
  controlSync(action: SyncAction): void;
  /**
   * Only on a line that waits for the CA passphrase: opens the line with it. Without this the
   * API answers STATION_NOT_LOCKED.
   */
  unlock?(passphrase: string): Promise<void>;
  readonly onSlotChanged: TypedEvent<SlotView>;
  readonly onOutboxChanged: TypedEvent<OutboxCounts>;
  readonly onStatusChanged: TypedEvent<StationStatus>;
}
