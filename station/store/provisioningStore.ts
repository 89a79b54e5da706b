import type Database from 'better-sqlite3';
import type { OutboxCounts, PassedRunRecord, RecentRunsQuery, RunView } from '../line/lineTypes.js';
import type { RunCounts } from '../line/dayTally.js';
import type {
  RefusedStart as RunFailureStart,
  EarlierProvisioning,
  EndorsementKeyQuery,
  FailedRunsQuery,
  FailureTry,
  PortHold,
  PortPass,
  RunDevice,
  RunDpsRecord,
  RunOpening,
  RunRecorder,
  RunStarter,
} from '../line/runRecorder.js';
import { AuditLog, type AuditEvent } from './auditLog.js';
import { countFailedRunsInARow, type EndedRunOnPort } from './failedRunsInARow.js';
import { checkDatabaseFiles } from './databaseFiles.js';
import { closeInterruptedRuns, type InterruptedRunsReport } from './interruptedRuns.js';
import { heldBoardsByPort } from './heldBoardsByPort.js';
import { lastPassesByPort } from './lastPassesByPort.js';
import { OutboxListing, type OutboxEntry, type OutboxFilter } from './outboxListing.js';
import { checkPassedRunRecord } from './passedRunChecks.js';
import {
  commitCertificate,
  insertEnrollment,
  refuseEndorsementKeyElsewhere,
} from './passWrites.js';
import {
  prepareProvisioningStatements,
  type ProvisioningStatements,
} from './provisioningStatements.js';
import { HeldRunRecords, type RefusedRun } from './heldRunRecords.js';
import { insertRun, upsertDevice, type RunStart } from './runStartWrites.js';
import { RunHistory, type RunFilter, type RunStats, type RunSummary } from './runHistory.js';
import { failedEvent, provisionedEvent } from './runAuditEvents.js';
import { thisProcess, type RunOwner } from './runOwner.js';
import { asStoreError, asStoreRead, isStoreBusy, StoreError } from './storeError.js';
import { enrollmentToSupersede } from './supersession.js';

/** What `recordFailure` receives (the RunRecorder contract). */
export type RunFailure = Parameters<RunRecorder['recordFailure']>[1];

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The provisioning record of the station: devices, runs, the enrollment outbox and the audit
 * trail, in the station database. A commit or a failure is one IMMEDIATE transaction: it takes the
 * write lock up front (busy_timeout applies) instead of failing when a read turns into a write,
 * and the database's WAL + synchronous=FULL makes it durable before the method returns.
 */
export class ProvisioningStore implements RunRecorder {
  private readonly outbox: OutboxListing;
  private readonly history: RunHistory;
  private readonly auditLog: AuditLog;
  private readonly now: () => Date;
  /** Recorded with every run opened here, so a later start can tell whether it was cut off. */
  private readonly owner: RunOwner;
  private readonly sql: ProvisioningStatements;
  private readonly commitTx: Database.Transaction<
    (record: PassedRunRecord, supersedes: EarlierProvisioning | undefined) => number
  >;
  private readonly failureTx: Database.Transaction<(runId: number, outcome: RunFailure) => void>;
  private readonly beginTx: Database.Transaction<(run: RunStart) => number>;
  /** Failures and refused starts the database refused to record, written before its next write. */
  private readonly held: HeldRunRecords;

  constructor(
    private readonly db: Database.Database,
    options: { now?: () => Date; owner?: RunOwner } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.owner = options.owner ?? thisProcess();
    this.outbox = new OutboxListing(db);
    this.history = new RunHistory(db);
    this.auditLog = new AuditLog(db);
    this.sql = prepareProvisioningStatements(db);
    this.commitTx = db.transaction(
      (record: PassedRunRecord, supersedes: EarlierProvisioning | undefined) =>
        this.writePass(record, supersedes),
    );
    this.failureTx = db.transaction((runId: number, outcome: RunFailure) =>
      this.writeFailure(runId, outcome),
    );
    this.beginTx = db.transaction((run: RunStart) =>
      insertRun(this.sql, this.owner, run, this.now()),
    );
    // Opened and failed at once: nobody sees the run `running`, and a crash leaves neither.
    const refusedTx = db.transaction(({ start, failure }: RefusedRun) =>
      this.writeFailure(insertRun(this.sql, this.owner, start, this.now()), failure),
    );
    this.held = new HeldRunRecords({
      failure: (runId, outcome) => this.failureTx.immediate(runId, outcome),
      refusedStart: (run) => refusedTx.immediate(run),
    });
  }

  /**
   * Opens a run (`running`); it ends through commitPass or recordFailure. Refuses while the
   * database cannot take the result (STORE_DATABASE_MOVED, STORE_WRITE_FAILED…), before the line
   * writes to the device (it has only read INFO): the device keeps its previous identity.
   * `opening.dps`: the DPS settings the run writes into the device, recorded with it, as is
   * `opening.operatorName`.
   */
  beginRun(
    port: string,
    profile: string,
    startedAt: number,
    startedBy?: RunStarter,
    device?: RunDevice,
    { dps, operatorName }: RunOpening = {},
  ): number {
    return asStoreError('begin run', () => {
      checkDatabaseFiles(this.db);
      this.held.writeAll();
      const run = { port, profile, startedAt, startedBy, device, dps, operatorName };
      return this.beginTx.immediate(run);
    });
  }

  /**
   * Ends the runs a crash left `running` whose station is known to be gone (interruptedRuns.ts):
   * `fail` with RUN_INTERRUPTED, their certificates `abandoned`. A line calls it as it starts.
   */
  closeInterruptedRuns(): InterruptedRunsReport {
    return asStoreError('close interrupted runs', () =>
      closeInterruptedRuns(this.db, this.owner, this.now()),
    );
  }

  /**
   * Commits a PASS in one transaction and returns the new enrollment's id. Throws StoreError
   * (nothing written): STORE_CERTIFICATE_STATE, STORE_ENROLLMENT_BUSY, STORE_DUPLICATE_ENROLLMENT,
   * STORE_EARLIER_PASS_CHANGED, STORE_RUN_NOT_RUNNING, STORE_RECORD_INVALID, STORE_WRITE_FAILED.
   */
  commitPass(record: PassedRunRecord, options: { supersedes?: EarlierProvisioning } = {}): number {
    checkPassedRunRecord(record);
    // Held failures first, each in its own transaction: one the database refuses must not share
    // (and roll back) this commit's.
    this.held.writeAll();
    return asStoreError(`commit run ${record.runId}`, () =>
      this.commitTx.immediate(record, options.supersedes),
    );
  }

  /**
   * Ends a run as `fail`/`cancelled` in one transaction; never writes an enrollment. An unknown
   * certificate serial is not linked rather than refused, so a failure can always be recorded.
   * Throws STORE_RUN_NOT_RUNNING when the run already ended, STORE_WRITE_FAILED… A failure
   * refused for disk space or a lock is still written later, before the next write of the store;
   * not a STORE_BUSY refusal the caller says it tries again (RunRecorder.recordFailure).
   */
  recordFailure(runId: number, outcome: RunFailure, options: FailureTry = {}): void {
    this.held.forgetFailure(runId);
    try {
      asStoreError(`record failure of run ${runId}`, () => {
        this.held.writeAll();
        this.failureTx.immediate(runId, outcome);
      });
    } catch (err) {
      if (!(options.retriedWhenBusy === true && isStoreBusy(err)))
        this.held.holdFailure(runId, outcome, err);
      throw err;
    }
  }

  /** A run beginRun refused, as failed with its refusal (RunRecorder.recordRefusedStart). */
  recordRefusedStart(start: RunFailureStart, failure: RunFailure): void {
    this.held.holdRefusedStart({ start, failure });
    this.held.writeAll();
  }

  /** The latest PASS whose enrollment is live, for this device or this registration ID. */
  findEarlierPass(query: {
    serialNumber: string;
    model: string;
    registrationId: string;
  }): EarlierProvisioning | undefined {
    return asStoreRead(
      'look up earlier pass',
      () =>
        this.sql.earlierPass.get(query.registrationId, query.serialNumber, query.model) as
          EarlierProvisioning | undefined,
    );
  }

  /**
   * The latest PASS of another device with this TPM EK (RunRecorder.findEndorsementKeyElsewhere).
   */
  findEndorsementKeyElsewhere(query: EndorsementKeyQuery): EarlierProvisioning | undefined {
    return asStoreRead(
      'look up endorsement key',
      () =>
        this.sql.passOfEndorsementKeyElsewhere.get(
          query.ekSha256,
          query.serialNumber,
          query.model,
        ) as EarlierProvisioning | undefined,
    );
  }

  /** Failed runs in a row of a device on a port before a run (RunRecorder.failedRunsInARow). */
  failedRunsInARow(query: FailedRunsQuery): number {
    return asStoreRead('count failed runs', () =>
      countFailedRunsInARow(
        this.sql.latestRunsOnPort.iterate(
          query.port,
          query.beforeRunId,
          iso(query.sinceMs),
        ) as IterableIterator<EndedRunOnPort>,
        query,
      ),
    );
  }

  /** Live enrollments per status (superseded ones are history and not counted). */
  outboxCounts(): OutboxCounts {
    return asStoreRead('count outbox', () => this.outbox.counts());
  }

  /**
   * SQLite's data_version of this connection: it changes when another connection (another
   * process) committed, never for this one's own writes. A pragma, no table read: cheap to poll.
   */
  dataVersion(): number {
    return asStoreRead('read data version', () =>
      Number(this.db.pragma('data_version', { simple: true })),
    );
  }

  /** A page of the outbox, oldest first; sealed secrets are never listed. */
  listOutbox(filter: OutboxFilter = {}): OutboxEntry[] {
    return asStoreRead('list outbox', () => this.outbox.list(filter));
  }

  /**
   * The outbox as CSV (RFC 4180, header row) or a JSON array, for `station queue export`, with
   * how many enrollments it holds.
   */
  exportOutboxCounted(
    format: 'csv' | 'json',
    filter: OutboxFilter = {},
  ): { text: string; enrollments: number } {
    return asStoreRead('export outbox', () => this.outbox.exportCounted(format, filter));
  }

  /** The latest runs that match `filter`, newest first (50 unless it says otherwise). */
  runs(filter: RunFilter = {}): RunSummary[] {
    return asStoreRead('list runs', () => this.history.list(filter));
  }

  /** The ports whose latest run passed (RunRecorder.lastPassesByPort: a restarted line). */
  lastPassesByPort(): PortPass[] {
    return asStoreRead('read the last passes by port', () => lastPassesByPort(this.db));
  }

  /** The ports whose board was held at the stop (RunRecorder.heldBoardsByPort: a restart). */
  heldBoardsByPort(minFailures: number): PortHold[] {
    return asStoreRead('read the held boards', () => heldBoardsByPort(this.db, minFailures));
  }

  /** The latest ended runs, newest first (RunRecorder.recentRuns: the UI's recent-runs list). */
  recentRuns(query: RecentRunsQuery): RunView[] {
    return asStoreRead('list recent runs', () => this.history.recent(query));
  }

  /** One run with its step log; undefined when there is none with that id. */
  run(id: number): RunSummary | undefined {
    return asStoreRead(`read run ${id}`, () => this.history.get(id));
  }

  /** How the runs started at or after `since` (ISO 8601) ended, by state and error code. */
  runStats(since: string, port?: string): RunStats {
    return asStoreRead('count runs', () => this.history.stats(since, port));
  }

  /** How the runs started at or after `sinceMs` ended (the line's tally of the day). */
  runCountsSince(sinceMs: number): RunCounts {
    const byState = asStoreRead('count runs', () =>
      this.history.byState(new Date(sinceMs).toISOString()),
    );
    return { passed: byState.pass, failed: byState.fail, cancelled: byState.cancelled };
  }

  /**
   * Records that a line which started locked was unlocked from its UI (`line.unlocked`), and
   * how many wrong passphrases came before. The passphrase itself is never recorded.
   */
  recordLineUnlocked(detail: { profile: string; wrongTriesBefore: number }): void {
    asStoreError('record the unlock', () =>
      this.auditLog.append({
        at: this.now(),
        actor: 'station',
        kind: 'line.unlocked',
        subject: 'line',
        detail: { ...detail, via: 'the unlock form at the workstation' },
      }),
    );
  }

  /** The latest audit events, newest first, optionally of one kind. */
  audit(kind?: string, limit = 100): AuditEvent[] {
    return asStoreRead('list audit events', () => this.auditLog.list(kind, limit));
  }

  /** The kinds of event the audit trail holds, alphabetically. */
  auditKinds(): string[] {
    return asStoreRead('list audit event kinds', () => this.auditLog.kinds());
  }

  private writePass(record: PassedRunRecord, supersedes: EarlierProvisioning | undefined): number {
    // Inside the transaction, under the write lock: nothing commits into a deleted file after it.
    checkDatabaseFiles(this.db);
    this.requireRunning(record.runId);
    if (record.certificateSerial !== undefined) {
      commitCertificate(this.sql, record.certificateSerial, record.registrationId);
    }
    const { device } = record;
    refuseEndorsementKeyElsewhere(this.sql, record);
    const deviceId = upsertDevice(this.sql, device, this.now());
    const earlier = supersedes && enrollmentToSupersede(this.sql, supersedes, record);
    const now = this.now().toISOString();
    // Superseded before the insert, or the partial unique index would see two live enrollments;
    // linked to its successor after, once that has an id (and retired in DPS if the ID changed:
    // retirementRules.ts). One transaction: nobody sees between.
    if (earlier !== undefined) this.sql.markSuperseded.run(now, earlier);
    const written = this.sql.finishPass.get(
      deviceId,
      record.registrationId,
      JSON.stringify(record.steps),
      iso(record.finishedAt),
      record.certificateSerial ?? null,
      record.evidence === undefined ? null : JSON.stringify(record.evidence),
      record.runId,
    ) as Record<keyof RunDpsRecord, string | null> & { operatorName: string | null };
    const enrollmentId = insertEnrollment(this.sql, record, deviceId, now);
    // The ID is in use again: its own sync owns DPS's record; the one left behind is retired.
    // A group member owns no record there: an individual one under its ID must go.
    if (record.attestation === 'symmetric-key-group') {
      this.sql.markRetirementsForMember.run(record.registrationId);
    } else this.sql.clearRetirements.run(record.registrationId);
    if (earlier !== undefined) {
      this.sql.linkSuccessor.run(enrollmentId, earlier);
      this.sql.markRetirementsDue.run(earlier);
    }
    this.auditLog.append({
      at: new Date(now),
      ...provisionedEvent(record, written, {
        enrollmentId,
        supersededEnrollmentId: earlier ?? null,
      }),
    });
    return enrollmentId;
  }

  private writeFailure(runId: number, outcome: RunFailure): void {
    const deviceId = outcome.device ? upsertDevice(this.sql, outcome.device, this.now()) : null;
    const serial = outcome.certificateSerial ?? null;
    const finished = this.sql.finishFailure.get(
      outcome.state,
      outcome.error.code,
      outcome.error.message,
      outcome.error.detail ?? null,
      JSON.stringify(outcome.steps),
      iso(outcome.finishedAt),
      deviceId,
      outcome.registrationId ?? null,
      serial,
      outcome.evidence === undefined ? null : JSON.stringify(outcome.evidence),
      runId,
    ) as { operatorName: string | null } | undefined;
    if (finished === undefined) throw this.notRunning(runId);
    const abandoned = serial !== null && this.sql.abandonCertificate.run(serial).changes === 1;
    this.auditLog.append({
      at: this.now(),
      ...failedEvent(runId, outcome, finished.operatorName, { serial, abandoned }),
    });
  }

  private requireRunning(runId: number): void {
    if (this.sql.runState.get(runId) !== 'running') throw this.notRunning(runId);
  }

  private notRunning(runId: number): StoreError {
    const state = this.sql.runState.get(runId) as string | undefined;
    return new StoreError('STORE_RUN_NOT_RUNNING', `run ${runId} is ${state ?? 'unknown'}`);
  }
}
