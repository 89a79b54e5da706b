import type { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { parseTcpPath } from '../../firmware-bridge/transports/tcpTransport.js';
import { FailureStreak, type EarlierFailures } from './failureStreak.js';
import type { SlotView } from './lineTypes.js';
import { NoAnswerStreak } from './noAnswerStreak.js';
import { OperatorStart } from './operatorStart.js';
import { holdsEarlierPass } from './passedBeforeStart.js';
import type { RunOutcome, RunProgress } from './provisioningRun.js';
import { toCodedError } from './runErrors.js';
import type { PortHold, PortPass } from './runRecorder.js';
import { deviceOnPort, SlotSession } from './slotSession.js';
import {
  checkCancelledView,
  copyView,
  earlierPassView,
  endedRunView,
  restoredHoldView,
  type ShownView,
} from './slotResultViews.js';

/** Runs one provisioning run for a slot, with the slot's signal and progress sink. */
export type SlotRunner = (
  signal: AbortSignal,
  onProgress: (progress: RunProgress) => void,
) => Promise<RunOutcome>;

/** What a slot is given by its line besides its port. */
export interface SlotOptions {
  /** Failures of a board before this process, as the store recorded them (FailureStreak). */
  earlierFailures?: EarlierFailures;
  /** The earlier-pass check left the board alone: a PASS shown without a run (the line logs it). */
  keptEarlierPass?: (pass: PortPass) => void;
}

/**
 * One port of the line and what it shows. A slot runs at most one run at a time and owns the
 * device session of its port; slots share nothing they would wait on, so a slow or broken
 * device holds up only its own slot.
 *
 * The session stays open across runs while the port is there and the last run passed: reopening
 * costs a few milliseconds per device, and a serial device server in TCP mode serves one client
 * at a time and may refuse a reconnect that comes before it noticed the disconnect. A failed or
 * cancelled run may leave the link in an unknown state (half a frame on either side, a late
 * answer on its way), so the next run never reuses its session: it starts on a clean link, a
 * fresh open with a new decoder and a delimiter that flushes the device's receive buffer.
 *
 * Until then a failed run's session on a local port stays open only to hear the port hang up:
 * the line holds a port while it is open, so unplugging the failed device is reported at once,
 * as after a PASS, and a device swapped in before the next poll gets its own run. A device left
 * plugged never hangs up, so it is not run again by itself (that would loop on a broken device).
 * A serial device server's session is closed at once, as before: its drop says nothing of the
 * device behind it, and the reopen before the next run would come right on the heels of the
 * close, the reconnect such a server may refuse.
 *
 * Presence and results are separate: a result (PASS, FAIL, cancelled) stays on screen after the
 * device is unplugged, until the next device appears on the port, so a technician who pulls a
 * device as it fails still sees why.
 *
 * A device that fails and then resets itself (a watchdog) does hang up and come back, and looks
 * like the next device. So the slot counts the failed runs in a row of one device (FailureStreak):
 * at the limit it shows RUN_REPEATED_FAILURE, and auto mode runs nothing on the port by itself
 * until another device is on it (`recheck` asks who is there before any run) or the operator
 * starts the slot; a restarted line holds that device again (`restoreHold`). A device that
 * drops before it even says who it is cannot be told from another: the slot counts those
 * failures in a row whatever the device (NoAnswerStreak), and at the limit shows
 * RUN_NO_ANSWER_REPEATED and runs nothing, not even a recheck, until the operator starts it.
 */
export class Slot {
  /** The port is there (plugged, or a configured server). */
  present = false;
  /** A device appeared and has not been run since: auto mode starts it (when the busy ends). */
  armed = false;
  /**
   * This port's last PASS, when the line started with it: auto mode first asks whether that
   * board is still there (`confirmEarlierPass`). Cleared by any run, the check, or an unplug.
   */
  passedBeforeStart: PortPass | undefined;
  private controller: AbortController | undefined;
  private readonly session: SlotSession;
  private readonly watchesAfterFailure: boolean;
  /** The run, or the check (recheck, confirmEarlierPass), in progress. */
  private running: Promise<unknown> | undefined;
  /** `running` is a check, not a run: the operator's start may end it. */
  private checking = false;
  /** Provision pressed during the check, due once it ends (operatorStart.ts). */
  readonly operatorStart = new OperatorStart();
  private current: SlotView;
  private readonly streak: FailureStreak;
  private readonly unanswered = new NoAnswerStreak();
  /** What the slot showed when its streak reached the limit, shown again while it holds. */
  private heldView: ShownView | undefined;

  constructor(
    readonly number: number,
    readonly port: string,
    private readonly changed: (view: SlotView) => void,
    private readonly options: SlotOptions = {},
  ) {
    this.streak = new FailureStreak(options.earlierFailures);
    this.current = { slot: number, port, state: 'empty', progress: 0, updatedAt: Date.now() };
    this.watchesAfterFailure = parseTcpPath(port) === undefined;
    this.session = new SlotSession();
  }

  /** A copy of what the UI shows. */
  get view(): SlotView {
    return copyView(this.current);
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /**
   * The run is at its commit step: COMMIT is on the wire (or answered, and the store records the
   * PASS), so a cancel can no longer keep the device's previous identity (provisioningRun.ts).
   */
  get isCommitting(): boolean {
    const { state, step } = this.current;
    return this.isRunning && !this.checking && state === 'running' && step === 'commit';
  }

  /** A check (who is on a held port, or on a port a PASS was left on) is in progress, not a run. */
  get isChecking(): boolean {
    return this.checking;
  }

  /** Auto mode starts no run on this port by itself until `recheck` (or the operator) ends it. */
  get held(): boolean {
    return this.streak.holds || this.unanswered.holds;
  }

  /** Held as nothing on the port answers INFO: no recheck, only the operator can end that. */
  get heldUnanswered(): boolean {
    return this.unanswered.holds;
  }

  /**
   * The line started with this port's board held (PortHold, from the store): the slot holds it
   * again, so auto mode asks who is on the port before any run (`recheck`), shows the hold if it
   * is that board, and runs any other board, which ends the hold.
   */
  restoreHold(hold: PortHold): void {
    this.heldView = restoredHoldView(this.number, this.port, hold, this.streak.restore(hold));
  }

  /** The operator started the slot: their start is the check the held slot asked for. */
  forgetFailures(): void {
    this.streak.reset();
    this.unanswered.reset();
  }

  /** The operator switched the mode: a deliberate act at the station, as a start is. */
  forgetUnanswered(): void {
    this.unanswered.reset();
  }

  /**
   * The port appeared: a new device may be on it, and the last result belongs to the old one.
   * Unless `keepHeld` (auto mode) and the slot holds: then it may well be the held device back
   * from a reset, and the slot keeps saying so, without a flicker, until `recheck` knows.
   */
  appeared(keepHeld = false): void {
    this.present = true;
    this.armed = true;
    if (!this.isRunning && !(keepHeld && this.held))
      this.show({ slot: this.number, port: this.port, state: 'waiting', progress: 0 });
  }

  disappeared(): void {
    this.present = false;
    this.armed = false;
    this.passedBeforeStart = undefined;
    // A run in progress sees the hang-up on its own session and ends with it.
    if (!this.isRunning) void this.dropSession();
    if (this.current.state === 'waiting') {
      this.show({ slot: this.number, port: this.port, state: 'empty', progress: 0 });
    }
  }

  /** The open session of this port, or a new one from `open`. */
  sessionOr(open: () => Promise<DeviceSession>): Promise<DeviceSession> {
    return this.session.get(open);
  }

  /** Closes the port's session, if one is open (port gone, failed run, line stopping). */
  dropSession(): Promise<void> {
    return this.session.drop();
  }

  /** Starts a run; resolves with its outcome. The caller checks that none is running. */
  run(runner: SlotRunner): Promise<RunOutcome> {
    if (this.running) throw new Error(`slot ${this.number} is already running`);
    this.armed = false;
    this.passedBeforeStart = undefined;
    const controller = new AbortController();
    this.controller = controller;
    this.show({
      slot: this.number,
      port: this.port,
      state: 'running',
      step: 'identify',
      progress: 0,
    });
    // Progress counts while this run is the slot's own: from its first, synchronous event (the
    // runner reports `identify` before `running` is even set) to its end.
    const running = runner(controller.signal, (p) => {
      if (this.controller === controller) this.progress(p);
    })
      // runProvisioning never throws; should a runner still do so, the slot must not stay busy.
      .catch((err: unknown): RunOutcome => ({
        state: 'fail',
        error: toCodedError(err),
        link: { bytesWritten: 0, bytesRead: 0 },
      }))
      .then(async (outcome) => {
        if (!this.keepsSession(outcome.state === 'pass')) await this.dropSession();
        else if (outcome.state !== 'pass') this.session.retire();
        this.running = undefined;
        this.controller = undefined;
        this.finish(outcome);
        return outcome;
      });
    this.running = running;
    return running;
  }

  /**
   * Whether the port's session stays open after a run (see the class comment). Nothing is kept
   * when the port went or the session closed: a hang-up, or a transport that gave up on a device
   * that took no bytes. Either way the port is polled again, as it was before it was held.
   */
  private keepsSession(passed: boolean): boolean {
    if (!this.present || !this.session.isOpen) return false;
    return passed || this.watchesAfterFailure;
  }

  /**
   * A held slot's port came back in auto mode: asks the device on it who it is (INFO, on the
   * session a run would use) and starts nothing. Resolves true when a run may start: another
   * device, which ends the streak, or one that did not answer, which is not known to be the held
   * one (its run fails or passes on its own account). False for the held device, whose session
   * stays open only to hear it hang up, as after its failed runs; and when cancelled or gone.
   */
  recheck(open: () => Promise<DeviceSession>): Promise<boolean> {
    if (this.running) throw new Error(`slot ${this.number} is busy`);
    return this.check(
      (signal) => deviceOnPort(() => this.sessionOr(open), signal),
      (answer) => {
        const device = 'error' in answer ? undefined : answer;
        if (device) this.unanswered.reset();
        const other = device !== undefined && !this.streak.holdsBack(device);
        if (other) this.streak.reset();
        // Another device's session is clean after INFO and carries on into its run; a check with
        // no answer leaves the link unknown, so the run that may follow starts on a fresh one.
        const session = other ? 'keep' : device && this.keepsSession(false) ? 'watch' : 'drop';
        return { answer, device, other, session };
      },
      ({ answer, device, other }, signal) => {
        const showsHeld = this.current.error?.code === 'RUN_REPEATED_FAILURE';
        if (device && !other && this.heldView && !showsHeld) this.show(this.heldView);
        if (signal.aborted) return false;
        if (!this.present) {
          // The device dropped while asked: no run follows to count that, so the check counts.
          const held = 'error' in answer && this.unanswered.recordUnansweredCheck(answer.error);
          const { number: slot, port } = this;
          if (held) this.show({ slot, port, state: 'fail', progress: 0, error: held });
          return false;
        }
        return other || device === undefined;
      },
    );
  }

  /**
   * Auto mode on a line that started with this port's last run a PASS (`passedBeforeStart`):
   * asks the device whether it is that board, still holding that identity (holdsEarlierPass).
   * Then the slot shows that PASS again and runs nothing until a device appears on the port
   * anew: resolves false. Otherwise (another board, one without it, no answer) true: a run may
   * start, and it reports whatever this check met. False too when cancelled or gone.
   */
  confirmEarlierPass(open: () => Promise<DeviceSession>): Promise<boolean> {
    const pass = this.passedBeforeStart;
    if (this.running || !pass) throw new Error(`slot ${this.number} has nothing to confirm`);
    this.passedBeforeStart = undefined;
    return this.check(
      (signal) =>
        this.sessionOr(open)
          .then((session) => holdsEarlierPass(session, pass, signal))
          .catch(() => undefined),
      // Only the board left alone keeps its session, to hear it unplugged as after its PASS;
      // any run that follows starts on a fresh link.
      (holds) => ({ holds, session: holds && this.keepsSession(true) ? 'keep' : 'drop' }),
      ({ holds }, signal) => {
        if (signal.aborted || !this.present) return false;
        if (!holds) return true;
        this.show(earlierPassView(this.number, this.port, pass));
        this.options.keptEarlierPass?.(pass);
        return false;
      },
    );
  }

  /**
   * Runs a check (recheck, confirmEarlierPass) as the slot's busy work, so that the operator's
   * start and the line's stop end it as they end a run. `ask` talks to the device under the
   * check's signal; `judge` reads the answer and says what becomes of the session (kept as it
   * is, kept only to hear a hang-up, or closed) while the slot is still busy, so no run starts on
   * a session about to close; `conclude`, once the slot is free, shows what the check found and
   * says whether a run may start.
   */
  private check<A, V>(
    ask: (signal: AbortSignal) => Promise<A>,
    judge: (answer: A) => V & { session: 'keep' | 'watch' | 'drop' },
    conclude: (verdict: V, signal: AbortSignal) => boolean,
  ): Promise<boolean> {
    this.armed = false;
    const controller = new AbortController();
    this.controller = controller;
    this.checking = true;
    const checking = ask(controller.signal).then(async (answer) => {
      const verdict = judge(answer);
      if (verdict.session === 'watch') this.session.retire();
      else if (verdict.session === 'drop') await this.dropSession();
      // Still a check while its link closes: the operator's Provision ends it, not LINE_SLOT_BUSY.
      this.checking = false;
      this.running = undefined;
      this.controller = undefined;
      return conclude(verdict, controller.signal);
    });
    this.running = checking;
    return checking;
  }

  /** Cancels the run in progress; false when there is none. */
  cancel(reason: string | Error = 'cancelled by the operator'): boolean {
    if (!this.controller) return false;
    this.controller.abort(typeof reason === 'string' ? new Error(reason) : reason);
    return true;
  }

  /** The operator ended the check: no run follows, and the card offers Provision. */
  checkCancelled(): void {
    this.show(checkCancelledView(this.number, this.port));
  }

  /** Resolves once no run is in progress. */
  async settled(): Promise<void> {
    await this.running;
  }

  private progress(p: RunProgress): void {
    const next: ShownView = {
      ...this.current,
      step: p.step,
      progress: p.progress,
      ...(p.runId !== undefined && { runId: p.runId }),
    };
    if (p.device) {
      next.serialNumber = p.device.serialNumber;
      next.model = p.device.model;
    }
    if (p.registrationId !== undefined) next.registrationId = p.registrationId;
    this.show(next);
  }

  private finish(outcome: RunOutcome): void {
    const next = endedRunView(this.current, outcome);
    const held = this.streak.record(outcome);
    if (held) {
      next.error = held;
      this.heldView = next;
    }
    // Never both: this one counts only the runs that identified no device, which the other skips.
    const unanswered = this.unanswered.record(outcome);
    if (unanswered) next.error = unanswered;
    this.show(next);
  }

  /** DPS assigned the device this slot last passed to a hub. False when the slot moved on. */
  registered(registrationId: string, hub: string): boolean {
    const view = this.current;
    if (view.state !== 'pass' || view.registrationId !== registrationId) return false;
    this.show({ ...view, registeredHub: hub });
    return true;
  }

  private show(view: ShownView): void {
    this.current = { ...view, updatedAt: Date.now() };
    this.changed(this.view);
  }
}
