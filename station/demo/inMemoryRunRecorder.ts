import type { CodedError, OutboxCounts, PassedRunRecord } from '../line/lineTypes.js';
import type {
  EarlierProvisioning,
  EndorsementKeyQuery,
  RunDevice,
  RunRecorder,
  RunStarter,
} from '../line/runRecorder.js';

/** A run as the in-memory recorder keeps it. */
export interface RecordedRun {
  runId: number;
  port: string;
  profile: string;
  startedAt: number;
  /** The device identify read before the run was opened, if it answered. */
  device?: RunDevice;
  state: 'running' | 'pass' | 'fail' | 'cancelled';
  pass?: PassedRunRecord;
  supersedes?: EarlierProvisioning;
  failure?: Parameters<RunRecorder['recordFailure']>[1];
}

/**
 * A RunRecorder that keeps everything in memory: for the DEMO line until the SQLite
 * ProvisioningStore is wired in, and for tests and benchmarks of the line engine. Not durable,
 * so never for a real line. It keeps every call, so tests can assert what the engine recorded.
 */
export class InMemoryRunRecorder implements RunRecorder {
  readonly runs: RecordedRun[] = [];
  readonly passes: PassedRunRecord[] = [];
  readonly failures: (Parameters<RunRecorder['recordFailure']>[1] & { runId: number })[] = [];
  /** Makes the next commitPass throw this error (tests of a failing store). */
  failNextCommit: (Error & { code?: string }) | undefined;
  private superseded = new Set<number>();

  beginRun(
    port: string,
    profile: string,
    startedAt: number,
    _startedBy?: RunStarter,
    device?: RunDevice,
  ): number {
    const runId = this.runs.length + 1;
    const run: RecordedRun = { runId, port, profile, startedAt, state: 'running' };
    if (device) run.device = { ...device };
    this.runs.push(run);
    return runId;
  }

  commitPass(record: PassedRunRecord, options: { supersedes?: EarlierProvisioning } = {}): void {
    const failure = this.failNextCommit;
    if (failure) {
      this.failNextCommit = undefined;
      throw failure;
    }
    const run = this.run(record.runId);
    // Copies, as a store would: later changes to the caller's objects cannot reach the record.
    const kept = structuredClone(record);
    run.state = 'pass';
    run.pass = kept;
    if (options.supersedes) {
      run.supersedes = options.supersedes;
      this.superseded.add(options.supersedes.runId);
    }
    this.passes.push(kept);
  }

  recordFailure(runId: number, outcome: Parameters<RunRecorder['recordFailure']>[1]): void {
    const run = this.run(runId);
    run.state = outcome.state;
    run.failure = structuredClone(outcome);
    this.failures.push({ runId, ...structuredClone(outcome) });
  }

  findEarlierPass(query: {
    serialNumber: string;
    model: string;
    registrationId: string;
  }): EarlierProvisioning | undefined {
    return this.latestPass((p) => isDevice(p, query) || p.registrationId === query.registrationId);
  }

  findEndorsementKeyElsewhere(query: EndorsementKeyQuery): EarlierProvisioning | undefined {
    return this.latestPass(
      (p) => !isDevice(p, query) && p.evidence?.endorsement?.ekSha256 === query.ekSha256,
    );
  }

  /** The newest PASS that `matches`, as an earlier provisioning. */
  private latestPass(matches: (pass: PassedRunRecord) => boolean): EarlierProvisioning | undefined {
    const pass = this.passes.findLast(matches);
    return pass && earlierOf(pass);
  }

  outboxCounts(): OutboxCounts {
    const pending = this.passes.filter((p) => !this.superseded.has(p.runId)).length;
    return { pending, syncing: 0, synced: 0, failed: 0, conflict: 0 };
  }

  /** The error the engine recorded for a run, if it failed. */
  errorOf(runId: number): CodedError | undefined {
    return this.run(runId).failure?.error;
  }

  private run(runId: number): RecordedRun {
    const run = this.runs[runId - 1];
    if (!run) throw new Error(`unknown run ${runId}`);
    return run;
  }
}

function isDevice(p: PassedRunRecord, device: { serialNumber: string; model: string }): boolean {
  return p.device.serialNumber === device.serialNumber && p.device.model === device.model;
}

function earlierOf(p: PassedRunRecord): EarlierProvisioning {
  return {
    runId: p.runId,
    serialNumber: p.device.serialNumber,
    model: p.device.model,
    registrationId: p.registrationId,
    passedAt: new Date(p.finishedAt).toISOString(),
  };
}
