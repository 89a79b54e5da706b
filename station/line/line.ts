import type { DeviceSession, SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { leafProfileOf } from './productLeafProfile.js';
import { runDpsRecord } from './profileFingerprint.js';
import type { AttestationServices } from './attestation/attestor.js';
import type { LineController, StationStatus, SyncAction } from './lineController.js';
import type { OutboxCounts, SlotView } from './lineTypes.js';
import { IsolatedEvent } from './isolatedEvent.js';
import { lineNotes } from './lineNotes.js';
import { syncView, type LineSync } from './lineSync.js';
import { earlierFailuresIn } from './failureStreak.js';
import { InterruptedPortsNote } from './interruptedPortsNote.js';
import type { LineOptions } from './lineOptions.js';
import { MISSING_PORT_NOTE_MS, MissingPortsNote, portAbsentDetail } from './missingPortsNote.js';
import { OutboxFeed } from './outboxFeed.js';
import { PortWatcher } from './portWatcher.js';
import { earlierPassKeptText } from './passedBeforeStart.js';
import { PortsAtStart } from './portsAtStart.js';
import { recentRunsIn } from './recentRuns.js';
import { DayTally } from './dayTally.js';
import { runProvisioning, type RunOutcome } from './provisioningRun.js';
import { RunClaims } from './runClaims.js';
import { LineError, StationStopping } from './runErrors.js';
import type { RunDpsRecord, RunStarter } from './runRecorder.js';
import { Slot } from './slot.js';
import { openWatchedSession } from './watchedSession.js';

export type { LineOptions };

/** A run ended on a slot (for logs, the API's history view and the benchmark). */
export interface RunEnded {
  slot: number;
  port: string;
  outcome: RunOutcome;
  durationMs: number;
}

/**
 * The provisioning line: one slot per port, each running its own device in parallel. In auto
 * mode every device that appears is provisioned once; the slot then waits until the port goes
 * and comes back (the next device) or an operator asks again, so a finished device is never
 * provisioned in a loop. A device that fails and resets itself does come back, so after
 * REPEATED_FAILURE_LIMIT failed runs in a row of one device a slot holds: it runs only a device
 * that says it is another one, until the operator starts it, and a restart keeps that hold
 * while the board is still on the port (see Slot, FailureStreak and PortsAtStart). A device
 * that keeps dropping before it says who it is holds the slot after as many failures: it runs
 * nothing until the operator starts it or switches the mode (NoAnswerStreak). In manual mode
 * only `provision(slot)` starts a run.
 */
export class Line implements LineController {
  // Isolated: a subscriber that throws never fails a run or silences the other subscribers.
  readonly onSlotChanged = new IsolatedEvent<SlotView>();
  readonly onOutboxChanged = new IsolatedEvent<OutboxCounts>();
  readonly onStatusChanged = new IsolatedEvent<StationStatus>();
  readonly onRunEnded = new IsolatedEvent<RunEnded>();
  /** The latest ended runs, newest first, as the store recorded them (LineController). */
  readonly recentRuns = recentRunsIn(() => this.options.recorder);
  private readonly slotsByPort = new Map<string, Slot>();
  private readonly slotList: Slot[] = [];
  private readonly watcher: PortWatcher;
  private readonly services: AttestationServices;
  /** The DPS settings every run of this line records: its profile is fixed for its life. */
  private readonly runDps: RunDpsRecord;
  private readonly sessionOptions: SessionOptions;
  private readonly outbox: OutboxFeed;
  private readonly interrupted: InterruptedPortsNote;
  private readonly missing: MissingPortsNote;
  private readonly today: DayTally;
  /** The registration IDs and TPM EKs the slots' runs in flight hold (runClaims.ts). */
  private readonly claims = new RunClaims();
  /** Stops telling the UIs at midnight that the day turned. */
  private stopMidnight: (() => void) | undefined;
  private mode: 'auto' | 'manual';
  private discoveryWarning: string | undefined;
  private sync: LineSync | undefined;
  private stopped = false;
  /** Each port's last PASS or held board at start, handed to its slot as it first appears. */
  private readonly atStart = new PortsAtStart();

  constructor(private readonly options: LineOptions) {
    this.mode = options.mode;
    this.interrupted = new InterruptedPortsNote(options.interruptedRuns ?? []);
    this.missing = new MissingPortsNote(options.ports.configured, {
      afterMs: options.ports.missingAfterMs ?? MISSING_PORT_NOTE_MS,
      changed: () => this.onStatusChanged.emit(this.status()),
      ...(options.log && { log: options.log }),
    });
    this.today = new DayTally(options.recorder.runCountsSince?.bind(options.recorder));
    this.runDps = runDpsRecord(options.profile);
    this.outbox = new OutboxFeed({
      recorder: options.recorder,
      emit: (counts) => this.onOutboxChanged.emit(counts),
      noteChanged: () => this.onStatusChanged.emit(this.status()),
      ...(options.outboxRefreshMs !== undefined && { everyMs: options.outboxRefreshMs }),
    });
    for (const path of options.ports.configured) {
      // Refuse a mistyped address now, not as a failed run on every poll.
      createTransport(path);
      this.slotFor(path);
    }
    this.services = {
      ca: options.ca,
      leafProfile: leafProfileOf(options.profile),
      sealSecret: options.sealSecret,
      ...(options.groupKey && { groupKey: options.groupKey }),
      ...(options.ekTrust && { ekTrust: options.ekTrust }),
      ...(options.recorder.findEndorsementKeyElsewhere && {
        endorsementKeyElsewhere: (query) => options.recorder.findEndorsementKeyElsewhere?.(query),
      }),
    };
    const baudRate = options.ports.baudRate;
    this.sessionOptions = { ...options.sessionOptions, ...(baudRate > 0 && { baudRate }) };
    this.watcher = new PortWatcher({
      configured: options.ports.configured,
      discover: options.ports.discover,
      ...(options.ports.pollMs !== undefined && { pollMs: options.ports.pollMs }),
    });
    this.watcher.onChange.on(({ path, present }) => this.portChanged(path, present));
    this.watcher.onWarning.on((warning) => {
      this.discoveryWarning = warning;
      this.onStatusChanged.emit(this.status());
    });
  }

  /** Starts watching ports; resolves after the first scan (configured ports have their state). */
  async start(): Promise<void> {
    this.stopped = false;
    this.today.load();
    this.atStart.read(this.options.recorder);
    await this.watcher.start();
    // A stop during the first scan arms no timer of a stopped line.
    if (this.stopped) return;
    this.stopMidnight?.();
    this.stopMidnight = this.today.everyMidnight(() => this.onStatusChanged.emit(this.status()));
    this.missing.start();
    this.outbox.start();
  }

  /** Stops watching, cancels every run and waits for the runs to end (and record). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopMidnight?.();
    this.watcher.stop();
    this.missing.stop();
    this.outbox.stop();
    for (const slot of this.slotList) slot.cancel(new StationStopping());
    await Promise.all(this.slotList.map((slot) => slot.settled()));
    await Promise.all(this.slotList.map((slot) => slot.dropSession()));
  }

  status(): StationStatus {
    const ca = this.options.ca.status();
    const status: StationStatus = {
      demo: this.options.demo,
      profile: this.options.profile.name,
      mode: this.mode,
      ca: {
        locked: ca.locked,
        subject: ca.subject,
        daysLeft: ca.daysLeft,
        ...(!this.options.profile.attestation.mode.startsWith('x509-') && { unused: true }),
      },
      notes: this.notes(),
      today: this.today.view(),
    };
    if (this.sync) status.sync = syncView(this.sync.status());
    return status;
  }

  /**
   * The outbox sync worker of this station: each PASS tells it there is work, its progress
   * refreshes the outbox counts, its state joins the status every UI shows, and `controlSync`
   * reaches it. Returns the disposer of the subscriptions.
   */
  attachSync(sync: LineSync): () => void {
    this.sync = sync;
    const disposers = [
      this.onRunEnded.on(({ outcome }) => {
        if (outcome.state === 'pass') sync.notify();
      }),
      sync.onProgress.on(() => this.refreshOutbox()),
      sync.onStateChange.on(() => this.onStatusChanged.emit(this.status())),
    ];
    this.onStatusChanged.emit(this.status());
    return () => {
      for (const dispose of disposers) dispose();
      if (this.sync === sync) this.sync = undefined;
    };
  }

  controlSync(action: SyncAction): void {
    const sync = this.sync;
    if (!sync) throw new LineError('LINE_SYNC_NOT_CONFIGURED');
    if (action === 'pause') void sync.pause();
    else if (action === 'resume') sync.resume();
    // A failed "sync now" (offline, paused meanwhile) shows in the sync status, not as a throw.
    else sync.syncNow().catch(() => undefined);
  }

  slots(): SlotView[] {
    return this.slotList.map((slot) => slot.view);
  }

  outboxCounts(): OutboxCounts {
    return this.outbox.current();
  }

  setMode(mode: 'auto' | 'manual'): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.onStatusChanged.emit(this.status());
    for (const slot of this.slotList) slot.forgetUnanswered();
    if (mode === 'auto') for (const slot of this.slotList) this.autoStart(slot);
  }

  /** `operatorName`: who pressed, when the caller knows (`station provision`), for the record. */
  provision(slotNumber: number, operatorName?: string): void {
    const slot = this.slotList[slotNumber - 1];
    if (this.stopped) throw new LineError('LINE_STOPPED');
    if (!slot) throw new LineError('LINE_SLOT_UNKNOWN', `slot ${slotNumber}`);
    if (!slot.present)
      throw new LineError('LINE_PORT_ABSENT', portAbsentDetail(slotNumber, slot.port));
    if (slot.isChecking) {
      // A second press while the first waits for the check starts no second run.
      if (!slot.operatorStart.defer()) return;
      // The operator's start ends the check; the run that follows is the operator's, not auto.
      slot.cancel('the operator started the slot');
      slot.forgetFailures();
      slot.armed = false;
      void slot.settled().then(() => {
        // A Cancel pressed before the check ended withdrew this start (see cancel).
        if (slot.operatorStart.take() && !this.stopped && slot.present && !slot.isRunning)
          this.startRun(slot, 'operator', operatorName);
      });
      return;
    }
    if (slot.isRunning) throw new LineError('LINE_SLOT_BUSY', `slot ${slotNumber} ${slot.port}`);
    slot.forgetFailures();
    this.startRun(slot, 'operator', operatorName);
  }

  cancel(slotNumber: number): void {
    const slot = this.slotList[slotNumber - 1];
    if (!slot) throw new LineError('LINE_SLOT_UNKNOWN', `slot ${slotNumber}`);
    // Saying "cancelled" would be a lie: the run goes on and may well pass.
    if (slot.isCommitting)
      throw new LineError('LINE_RUN_COMMITTING', `slot ${slotNumber} ${slot.port}`);
    const checking = slot.isChecking;
    // A Provision pressed during the check waits for it to end: this Cancel withdraws it too.
    if (checking) slot.operatorStart.withdraw();
    // A check the operator ended starts nothing: the card says so (checkCancelledView).
    if (!slot.cancel() || !checking) return;
    void slot.settled().then(() => {
      if (!this.stopped && slot.present && !slot.isRunning) slot.checkCancelled();
    });
  }

  /**
   * A device registered with DPS and was assigned `hub`: the slot that passed it shows so, if it
   * still shows that device.
   */
  deviceRegistered(registrationId: string, hub: string): void {
    for (const slot of this.slotList) if (slot.registered(registrationId, hub)) return;
  }

  /** The outbox changed outside a run (the sync worker): tell the UI the new counts. */
  refreshOutbox(): void {
    this.outbox.publish();
  }

  /** Polls the ports now (tests, or an operator's "rescan"). */
  rescan(): Promise<void> {
    return this.watcher.scan();
  }

  private notes(): string[] {
    return lineNotes(this.options, {
      discovery: this.discoveryWarning,
      outbox: this.outbox.note,
      interrupted: this.interrupted.note(),
      missing: this.missing.note(),
    });
  }

  private slotFor(path: string): Slot {
    let slot = this.slotsByPort.get(path);
    if (!slot) {
      const number = this.slotList.length + 1;
      slot = new Slot(number, path, (view) => this.onSlotChanged.emit(view), {
        earlierFailures: earlierFailuresIn(this.options.recorder, path),
        keptEarlierPass: (pass) => this.options.log?.(earlierPassKeptText(number, path, pass)),
      });
      this.slotsByPort.set(path, slot);
      this.slotList.push(slot);
      this.onSlotChanged.emit(slot.view);
    }
    return slot;
  }

  private portChanged(path: string, present: boolean): void {
    const slot = this.slotFor(path);
    if (present) {
      this.missing.appeared(path);
      slot.appeared(this.mode === 'auto');
      this.atStart.handTo(slot);
      this.autoStart(slot);
    } else {
      // A run in progress ends by itself: its session sees the hang-up.
      slot.disappeared();
    }
  }

  private autoStart(slot: Slot): void {
    if (this.stopped || !slot.present || !slot.armed || slot.isRunning) return;
    const open = (): Promise<DeviceSession> => this.openSlotSession(slot);
    const runIfStillDue = (mayRun: boolean): void => {
      if (this.stopped || !slot.present || slot.isRunning) return;
      // No run for what the check met; a device that arrived meanwhile is due its own turn.
      if (!mayRun) return this.autoStart(slot);
      // Switched to manual during the check: the board waits for Provision, or for auto again.
      if (this.mode === 'auto') this.startRun(slot, 'auto');
      else slot.armed = true;
    };
    // A board that passed here before the line started, still on the port, gets no run again;
    // asked in manual mode too, so that its card shows that PASS, not a Provision button.
    if (slot.passedBeforeStart) return void slot.confirmEarlierPass(open).then(runIfStillDue);
    if (this.mode !== 'auto') return;
    if (!slot.held) return this.startRun(slot, 'auto');
    if (slot.heldUnanswered) return; // asking a port that never answers would loop as its runs did
    // A held slot: the device that keeps failing gets no run, any other device does.
    void slot.recheck(open).then(runIfStillDue);
  }

  /** A session on the slot's port, which the watcher holds while it is open (watchedSession.ts). */
  private openSlotSession(slot: Slot): Promise<DeviceSession> {
    const baudRate = this.options.ports.baudRate || undefined;
    return openWatchedSession(this.watcher, slot.port, baudRate, this.sessionOptions);
  }

  private startRun(slot: Slot, startedBy: RunStarter, operatorName?: string): void {
    const started = performance.now();
    const startedAt = Date.now();
    if (this.interrupted.ranOn(slot.port)) this.onStatusChanged.emit(this.status());
    const { profile, recorder } = this.options;
    void slot
      .run((signal, onProgress) =>
        runProvisioning({
          port: slot.port,
          profile,
          dps: this.runDps,
          recorder,
          services: this.services,
          session: () => slot.sessionOr(() => this.openSlotSession(slot)),
          startedBy,
          operatorName,
          claim: (identity) => this.claims.claim(slot.number, identity),
          signal,
          onProgress,
        }),
      )
      .then((outcome) => {
        const durationMs = performance.now() - started;
        this.today.count(outcome.state, startedAt);
        this.onRunEnded.emit({ slot: slot.number, port: slot.port, outcome, durationMs });
        if (outcome.state === 'pass') this.outbox.publish();
        // The day's tally is in the status; a line no UI watches builds none.
        if (this.onStatusChanged.listenerCount > 0) this.onStatusChanged.emit(this.status());
        // A device plugged while the run was finishing (its record waiting out a lock) armed
        // the slot: it starts now. Only an arrival arms a slot: no finished device runs again.
        this.autoStart(slot);
      });
  }
}
