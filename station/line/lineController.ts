import type { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { OutboxCounts, SlotView } from './lineTypes.js';

/** What the station tells every UI about itself (no secrets). */
export interface StationStatus {
  /** True on the DEMO line: simulated devices, DEMO CA, DEMO DPS settings. */
  demo: boolean;
  /** The product profile the line provisions. */
  profile: string;
  /** `auto`: every device that appears is provisioned; `manual`: an operator starts each run. */
  mode: 'auto' | 'manual';
  ca: { locked: boolean; subject: string; daysLeft: number };
  /** Operator-facing notes, e.g. why ports were found by scanning /dev. */
  notes: string[];
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
  /** Cancels the run on a slot; the device keeps its previous identity (nothing committed). */
  cancel(slot: number): void;
  readonly onSlotChanged: TypedEvent<SlotView>;
  readonly onOutboxChanged: TypedEvent<OutboxCounts>;
  readonly onStatusChanged: TypedEvent<StationStatus>;
}
