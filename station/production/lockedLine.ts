/**
 * A line that starts locked: the station is up and its UI shows the line it will run, but no
 * port is opened and no secret is read until a supervisor types the CA passphrase into the UI at
 * the workstation (`unlock`). This is how a station that starts at boot, or in the desktop
 * window, runs a real line without the passphrase ever sitting on disk or in a terminal.
 */
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import type { RunningStation } from '../api/stationFactory.js';
import { UnlockError } from '../api/unlockError.js';
import type { LineController, StationStatus, SyncAction } from '../line/lineController.js';
import type {
  CodedError,
  OutboxCounts,
  RecentRunsQuery,
  RunView,
  SlotView,
} from '../line/lineTypes.js';
import { LineError } from '../line/runErrors.js';
import { API_ERROR_CODES } from '../api/contract.js';
import { toApiError } from '../api/serveStationApi.js';

/**
 * Wrong passphrases in a row after which the next try must wait (a supervisor mistyping pays
 * nothing more than the key derivation; someone guessing pays minutes per guess).
 */
const WRONG_BEFORE_WAITING = 3;
/** The first wait; it doubles with each wrong passphrase after it. */
const FIRST_WAIT_MS = 10_000;
const LONGEST_WAIT_MS = 5 * 60_000;

export const LOCKED_NOTE =
  'The line waits for the CA passphrase: a supervisor unlocks it at the workstation itself.';

export interface LockedLineOptions {
  /** The line's status as the UI shows it while locked (its profile, mode and CA, locked). */
  status: Omit<StationStatus, 'awaitingPassphrase' | 'notes'>;
  /** The outbox as it stood at the locked start (read without the passphrase). */
  outbox: OutboxCounts;
  /**
   * Opens the real line; rejects with CUSTODY_WRONG_PASSPHRASE for a wrong passphrase.
   * `wrongTriesBefore`: wrong passphrases in a row before this one, for the audit trail.
   */
  open(passphrase: string, wrongTriesBefore: number): Promise<RunningStation>;
  /**
   * Keeps a wrong passphrase in the audit trail at once: `inARow` counts it, `waitMs` is the
   * wait it imposed on the next try (none before the third in a row). Its failure is logged and
   * changes nothing of the unlock's answer.
   */
  recordWrongPassphrase(inARow: number, waitMs: number | undefined): void;
  log(line: string): void;
  /** Milliseconds now (tests give a clock). */
  now?: () => number;
}

export class LockedLine implements LineController {
  readonly onSlotChanged = new TypedEvent<SlotView>();
  readonly onOutboxChanged = new TypedEvent<OutboxCounts>();
  readonly onStatusChanged = new TypedEvent<StationStatus>();

  readonly #options: LockedLineOptions;
  readonly #now: () => number;
  #station: RunningStation | undefined;
  #opening: Promise<void> | undefined;
  #stopped = false;
  #wrongInARow = 0;
  #nextTryAt = 0;
  /** Why the last unlock failed, other than a wrong passphrase (a store or DPS refusal). */
  #lastFailure: CodedError | undefined;

  constructor(options: LockedLineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** True once the passphrase opened the line. */
  get unlocked(): boolean {
    return this.#station !== undefined;
  }

  status(): StationStatus {
    if (this.#station) return this.#station.line.status();
    const notes = [LOCKED_NOTE];
    if (this.#lastFailure) {
      notes.push(
        `The last unlock failed: ${this.#lastFailure.message} (${this.#lastFailure.code})`,
      );
    }
    return { ...this.#options.status, notes, awaitingPassphrase: true };
  }

  slots(): SlotView[] {
    return this.#station ? this.#station.line.slots() : [];
  }

  outboxCounts(): OutboxCounts {
    return this.#station ? this.#station.line.outboxCounts() : this.#options.outbox;
  }

  /**
   * None while locked: a query, answered like the slots (the line's commands are refused with
   * LINE_LOCKED). The UI shows the unlock form in their place, and asks again once the line runs.
   */
  recentRuns(query: RecentRunsQuery): RunView[] {
    return this.#station ? this.#station.line.recentRuns(query) : [];
  }

  setMode(mode: 'auto' | 'manual'): void {
    this.#unlockedLine().setMode(mode);
  }

  provision(slot: number): void {
    this.#unlockedLine().provision(slot);
  }

  cancel(slot: number): void {
    this.#unlockedLine().cancel(slot);
  }

  controlSync(action: SyncAction): void {
    this.#unlockedLine().controlSync(action);
  }

  async unlock(passphrase: string): Promise<void> {
    if (this.#stopped) throw new LineError('LINE_STOPPED');
    if (this.#station) throw new UnlockError('STATION_NOT_LOCKED');
    if (this.#opening) throw new UnlockError('STATION_UNLOCK_BUSY');
    const waitMs = this.#nextTryAt - this.#now();
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new UnlockError(
        'STATION_UNLOCK_WAIT',
        undefined,
        `Too many wrong passphrases: try again in ${seconds} s.`,
      );
    }
    const opening = this.#open(passphrase);
    this.#opening = opening.finally(() => (this.#opening = undefined)).catch(() => {});
    await opening;
  }

  /** Stops the line if it was unlocked; an unlock under way is waited for, then stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#opening;
    await this.#station?.stop();
  }

  async #open(passphrase: string): Promise<void> {
    let station: RunningStation;
    try {
      station = await this.#options.open(passphrase, this.#wrongInARow);
    } catch (err) {
      const error = toApiError(err);
      if (error.code === 'CUSTODY_WRONG_PASSPHRASE') this.#wrongPassphrase();
      else {
        this.#lastFailure = error;
        this.#options.log(`The line did not start: ${failureText(error)}`);
        this.onStatusChanged.emit(this.status());
      }
      throw err;
    }
    if (this.#stopped) {
      // The station stopped while the line opened: close it again, nothing may run now.
      await station.stop();
      throw new LineError('LINE_STOPPED');
    }
    this.#station = station;
    this.#wrongInARow = 0;
    this.#lastFailure = undefined;
    this.#options.log('The line was unlocked at the workstation and runs.');
    const { line } = station;
    line.onSlotChanged.on((slot) => this.onSlotChanged.emit(slot));
    line.onOutboxChanged.on((counts) => this.onOutboxChanged.emit(counts));
    line.onStatusChanged.on((status) => this.onStatusChanged.emit(status));
    // Every UI drew the locked line: give it the running one.
    this.onStatusChanged.emit(line.status());
    for (const slot of line.slots()) this.onSlotChanged.emit(slot);
    this.onOutboxChanged.emit(line.outboxCounts());
  }

  #wrongPassphrase(): void {
    this.#wrongInARow += 1;
    const beyond = this.#wrongInARow - WRONG_BEFORE_WAITING;
    const waitMs = beyond >= 0 ? Math.min(FIRST_WAIT_MS * 2 ** beyond, LONGEST_WAIT_MS) : undefined;
    if (waitMs !== undefined) this.#nextTryAt = this.#now() + waitMs;
    this.#options.log(
      `A wrong CA passphrase was typed to unlock the line (${this.#wrongInARow} in a row).`,
    );
    try {
      this.#options.recordWrongPassphrase(this.#wrongInARow, waitMs);
    } catch (err) {
      this.#options.log(
        `The wrong passphrase was not written to the audit trail: ${failureText(toApiError(err))}`,
      );
    }
  }

  #unlockedLine(): LineController {
    if (this.#stopped) throw new LineError('LINE_STOPPED');
    if (!this.#station) throw new LineError('LINE_LOCKED');
    return this.#station.line;
  }
}

/**
 * A failed start as the log keeps it, detail included: for an error with no code of its own
 * (API_COMMAND_FAILED, "see the station log") the detail is the only word on the cause.
 */
function failureText(error: CodedError): string {
  if (error.code === API_ERROR_CODES.commandFailed && error.detail !== undefined) {
    return error.detail;
  }
  const detail = error.detail === undefined ? '' : `: ${error.detail}`;
  return `${error.message} (${error.code})${detail}`;
}
