import type Database from 'better-sqlite3';
import type {
  AttestationEvidence,
  CodedError,
  PassedRunRecord,
  RecentRunsQuery,
  RunView,
} from '../line/lineTypes.js';
import type { RunDpsRecord, RunStarter } from '../line/runRecorder.js';

/** The states a run row can be in (migration 002). */
export const RUN_STATES = ['running', 'pass', 'fail', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** One provisioning run as the UI and the CLI list it. */
export interface RunSummary {
  id: number;
  port: string;
  profile: string;
  state: RunState;
  serialNumber: string | null;
  model: string | null;
  registrationId: string | null;
  certificateSerial: string | null;
  error: CodedError | null;
  steps: PassedRunRecord['steps'];
  /** What a PASS's attest step checked (a TPM's EK and its certificate chain), else null. */
  evidence: AttestationEvidence | null;
  /** ISO 8601. */
  startedAt: string;
  /** Who started it; null for a run recorded before the station kept that (migration 010). */
  startedBy: RunStarter | null;
  /**
   * The operator's name, when the command that started the run knew one (`station provision`,
   * migration 015); null for a Provision press in the UI, auto mode, and runs from before.
   */
  operatorName: string | null;
  finishedAt: string | null;
  /**
   * The DPS settings the run wrote (or was to write) into its device, and its profile's
   * fingerprint; null for a run recorded before the station kept them (migration 014).
   */
  dps: RunDpsRecord | null;
}

/** Which runs to list; every field narrows, none means the latest runs. */
export interface RunFilter {
  state?: RunState;
  port?: string;
  serialNumber?: string;
  /** Runs that wrote this DPS ID scope (letter case aside). */
  idScope?: string;
  /** ISO 8601: runs started at or after it. */
  since?: string;
  limit?: number;
}

/** How the runs started in a window ended, for `station runs stats`. */
export interface RunStats {
  byState: Record<RunState, number>;
  /** Runs that did not pass, per error code, most frequent first, with one run's text. */
  byError: { code: string; runs: number; message: string; latestRunId: number }[];
}

/**
 * The runs of a window per state; read through `runs_by_started_at` (migration 009), named in the
 * statement: SQLite would otherwise group by walking `runs_by_state` (migration 013), which
 * holds every run ever made.
 */
export const RUNS_BY_STATE_SQL = `SELECT state, count(*) AS runs FROM runs
  INDEXED BY runs_by_started_at
  WHERE started_at >= @since AND (@port IS NULL OR port = @port) GROUP BY state`;

type RunRow = Omit<RunSummary, 'error' | 'steps' | 'evidence' | 'dps'> & {
  errorCode: string | null;
  errorMessage: string | null;
  errorDetail: string | null;
  steps: string;
  evidence: string | null;
  idScope: string | null;
  globalEndpoint: string | null;
  profileFingerprint: string | null;
};

const COLUMNS = `r.id, r.port, r.profile, r.state,
  d.serial_number AS serialNumber, d.model, r.registration_id AS registrationId,
  r.certificate_serial AS certificateSerial, r.error_code AS errorCode,
  r.error_message AS errorMessage, r.error_detail AS errorDetail, r.steps,
  r.started_at AS startedAt, r.started_by AS startedBy, r.operator_name AS operatorName,
  r.finished_at AS finishedAt,
  r.attestation_evidence AS evidence, r.dps_id_scope AS idScope,
  r.dps_global_endpoint AS globalEndpoint, r.profile_fingerprint AS profileFingerprint`;

/** A statement and the values of its parameters, in order. */
export interface RunListQuery {
  sql: string;
  params: unknown[];
}

/**
 * What `RunHistory.list` runs for `filter`: the statement and its parameters, the limit last.
 * Exported so that the plan SQLite makes of it can be checked (migrations 009 and 013).
 */
export function runListQuery(filter: RunFilter = {}): RunListQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    where.push(clause);
    params.push(value);
  };
  // A device's runs are few, and a window's index bounds the read, so either narrows better than
  // a state most runs share (pass). Without statistics SQLite would still take `runs_by_state`
  // (migration 013) and read, and sort, every run ever made in that state: the unary + keeps the
  // state out of its choice there. Alone (or with a port), the state is walked newest first
  // through that index, and a state no run is in costs nothing.
  const narrower = filter.serialNumber !== undefined || filter.since !== undefined;
  if (filter.state !== undefined) add(narrower ? '+r.state = ?' : 'r.state = ?', filter.state);
  // A scope is shared by most runs of a line, so it too yields to a device or a window; alone,
  // or with a state or port, its runs are walked newest first down `runs_by_id_scope` (014).
  if (filter.idScope !== undefined) {
    add(narrower ? '+r.dps_id_scope = ?' : 'r.dps_id_scope = ?', filter.idScope);
  }
  if (filter.port !== undefined) add('r.port = ?', filter.port);
  if (filter.serialNumber !== undefined) add('d.serial_number = ?', filter.serialNumber);
  if (filter.since !== undefined) add('r.started_at >= ?', filter.since);
  // With a window, newest first by start time: the window's index then bounds the read. By
  // id, SQLite would walk back through every run ever made when fewer than `limit` match.
  const order = filter.since !== undefined ? 'r.started_at DESC, r.id DESC' : 'r.id DESC';
  const sql = `SELECT ${COLUMNS} FROM runs r LEFT JOIN devices d ON d.id = r.device_id
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`;
  return { sql, params: [...params, filter.limit ?? 50] };
}

const RECENT_COLUMNS = `r.id AS runId, r.port, r.state, r.started_at AS startedAt,
  r.finished_at AS finishedAt, d.serial_number AS serialNumber, d.model,
  r.registration_id AS registrationId, r.error_code AS errorCode,
  r.error_message AS errorMessage, r.error_detail AS errorDetail`;

/**
 * The latest ended runs, newest first (the UI's recent-runs list): down the primary key from the
 * newest run, passing over the few still running (one per slot at most) and stopping at the
 * limit. Not `state IN ('pass', 'fail', 'cancelled')`: SQLite would take `runs_by_state`
 * (migration 013) for it, and read and sort every ended run ever made.
 */
export const RECENT_ENDED_RUNS_SQL = `SELECT ${RECENT_COLUMNS}
  FROM runs r LEFT JOIN devices d ON d.id = r.device_id
  WHERE r.state != 'running' ORDER BY r.id DESC LIMIT @limit`;

/**
 * The latest runs that did not pass (failed, or cancelled: by the operator or by a station stop,
 * RUN_INTERRUPTED), newest first: their devices must be provisioned again. Each state is read
 * down `runs_by_state` (migration 013) and stops at the limit; only those two short lists are
 * merged. One `state IN (...)` would make SQLite read every such run ever made and sort them.
 */
export const RECENT_FAILED_RUNS_SQL = `SELECT * FROM (SELECT ${RECENT_COLUMNS}
    FROM runs r LEFT JOIN devices d ON d.id = r.device_id
    WHERE r.state = 'fail' ORDER BY r.id DESC LIMIT @limit)
  UNION ALL
  SELECT * FROM (SELECT ${RECENT_COLUMNS}
    FROM runs r LEFT JOIN devices d ON d.id = r.device_id
    WHERE r.state = 'cancelled' ORDER BY r.id DESC LIMIT @limit)
  ORDER BY runId DESC LIMIT @limit`;

interface RecentRunRow {
  runId: number;
  port: string;
  state: RunView['state'];
  startedAt: string;
  finishedAt: string;
  serialNumber: string | null;
  model: string | null;
  registrationId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorDetail: string | null;
}

/** Read side of the run history. */
export class RunHistory {
  constructor(private readonly db: Database.Database) {}

  /** The latest runs that match `filter`, newest first (50 unless `limit` says otherwise). */
  list(filter: RunFilter = {}): RunSummary[] {
    const { sql, params } = runListQuery(filter);
    return (this.db.prepare(sql).all(...params) as RunRow[]).map(summary);
  }

  /** The latest ended runs (pass, fail, cancelled), newest first; those that did not pass if asked. */
  recent(query: RecentRunsQuery): RunView[] {
    const sql = query.failedOnly ? RECENT_FAILED_RUNS_SQL : RECENT_ENDED_RUNS_SQL;
    return (this.db.prepare(sql).all({ limit: query.limit }) as RecentRunRow[]).map(runView);
  }

  /** One run, whole; undefined when there is none with that id. */
  get(id: number): RunSummary | undefined {
    const row = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM runs r LEFT JOIN devices d ON d.id = r.device_id
        WHERE r.id = ?`,
      )
      .get(id) as RunRow | undefined;
    return row && summary(row);
  }

  /** How many runs started at or after `since` (ISO 8601) are in each state. */
  byState(since: string, port?: string): Record<RunState, number> {
    const byState = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
    const states = this.db.prepare(RUNS_BY_STATE_SQL).all({ since, port: port ?? null }) as {
      state: RunState;
      runs: number;
    }[];
    for (const { state, runs } of states) byState[state] = runs;
    return byState;
  }

  /** How the runs started at or after `since` (ISO 8601) ended, on one port if given. */
  stats(since: string, port?: string): RunStats {
    const byState = this.byState(since, port);
    const window = { since, port: port ?? null };
    // The message of each code's latest run (codes never change meaning; their text may): with
    // one max() in the query, SQLite takes a bare column from the row that has the maximum.
    const byError = this.db
      .prepare(
        `SELECT error_code AS code, count(*) AS runs, max(id) AS latestRunId,
          coalesce(error_message, '') AS message
        FROM runs WHERE started_at >= @since AND (@port IS NULL OR port = @port)
          AND error_code IS NOT NULL
        GROUP BY error_code ORDER BY runs DESC, code`,
      )
      .all(window) as RunStats['byError'];
    return { byState, byError };
  }
}

function summary({
  errorCode,
  errorMessage,
  errorDetail,
  steps,
  evidence,
  idScope,
  globalEndpoint,
  profileFingerprint,
  ...run
}: RunRow): RunSummary {
  return {
    ...run,
    error: errorCode === null ? null : codedError(errorCode, errorMessage, errorDetail),
    steps: JSON.parse(steps) as RunSummary['steps'],
    evidence: evidence === null ? null : (JSON.parse(evidence) as AttestationEvidence),
    // Migration 014's CHECK keeps the three together: all recorded, or none.
    dps:
      idScope === null || globalEndpoint === null || profileFingerprint === null
        ? null
        : { idScope, globalEndpoint, profileFingerprint },
  };
}

/** A row of the recent-runs list as the UI takes it: what is not known is left out, not null. */
function runView({ serialNumber, model, registrationId, ...row }: RecentRunRow): RunView {
  const view: RunView = {
    runId: row.runId,
    port: row.port,
    state: row.state,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
  if (serialNumber !== null) view.serialNumber = serialNumber;
  if (model !== null) view.model = model;
  if (registrationId !== null) view.registrationId = registrationId;
  if (row.errorCode !== null) {
    view.error = codedError(row.errorCode, row.errorMessage, row.errorDetail);
  }
  return view;
}

function codedError(code: string, message: string | null, detail: string | null): CodedError {
  return detail === null
    ? { code, message: message ?? '' }
    : { code, message: message ?? '', detail };
}
