import type Database from 'better-sqlite3';
import { EARLIER_FAILURES_WINDOW_MS } from '../line/failureStreak.js';
import type { PortHold } from '../line/runRecorder.js';
import {
  countFailedRunsInARow,
  saysNothingOfTheBoard,
  type EndedRunOnPort,
} from './failedRunsInARow.js';
import { LAST_RUNS_WINDOW } from './lastPassesByPort.js';

/**
 * The runs that ended among the newest LAST_RUNS_WINDOW, newest first, with the board each
 * named: the same bounded read by rowid as the restart's check of passes (lastPassesByPort.ts),
 * however large the history is.
 */
export const RECENT_ENDED_RUNS_SQL = `SELECT r.id, r.port, r.state, r.error_code AS errorCode,
    d.serial_number AS serialNumber, d.model, r.started_by AS startedBy,
    r.owner_token AS ownerToken, r.started_at AS startedAt, r.finished_at AS finishedAt
  FROM runs r LEFT JOIN devices d ON d.id = r.device_id
  WHERE r.id > (SELECT coalesce(max(id), 0) FROM runs) - @window AND r.state != 'running'
  ORDER BY r.id DESC`;

/** The error a held board's latest failure ended with, by run id. */
export const RUN_FAILURE_SQL = `SELECT error_code AS code, error_message AS message,
    error_detail AS detail, registration_id AS registrationId
  FROM runs WHERE id = ?`;

interface RecentRun extends EndedRunOnPort {
  id: number;
  port: string;
  /** The station process that ran it (migration 008): a new token is a new start. */
  ownerToken: string | null;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; ended runs only are read. */
  finishedAt: string;
}

interface RunFailure {
  code: string;
  message: string | null;
  detail: string | null;
  registrationId: string | null;
}

/**
 * The ports whose board was held when the station stopped (RunRecorder.heldBoardsByPort). The
 * board of a port is the one its newest run named: a run that failed before the board said who
 * it is names none, and a board another one followed on the port is no longer there to hold.
 * Its failures are counted as its slot had counted them when the station stopped
 * (failuresAtStop): the operator's start, a PASS, a cancel or another board ends the count, and
 * failures from before that station's start count only as the slot asked for them.
 */
export function heldBoardsByPort(db: Database.Database, minFailures: number): PortHold[] {
  const byPort = new Map<string, RecentRun[]>();
  const recent = db.prepare(RECENT_ENDED_RUNS_SQL).iterate({ window: LAST_RUNS_WINDOW });
  for (const run of recent as IterableIterator<RecentRun>) {
    const runs = byPort.get(run.port);
    if (runs) runs.push(run);
    else byPort.set(run.port, [run]);
  }
  const failureOf = db.prepare(RUN_FAILURE_SQL);
  const holds: PortHold[] = [];
  for (const [port, runs] of byPort) {
    const board = runs.find((run) => run.serialNumber !== null);
    if (board?.serialNumber == null || board.model === null) continue;
    const { serialNumber, model } = board;
    const failures = failuresAtStop(runs, { serialNumber, model }, minFailures - 1);
    if (failures < minFailures) continue;
    // The newest run the count took: a failure of this board that its stop did not cut short.
    const latest = runs.find(
      (run) =>
        run.state === 'fail' &&
        !saysNothingOfTheBoard(run) &&
        run.serialNumber === serialNumber &&
        run.model === model,
    );
    const failure = latest && (failureOf.get(latest.id) as RunFailure | undefined);
    if (!latest || !failure) continue;
    holds.push({
      port,
      serialNumber,
      model,
      failures,
      runId: latest.id,
      ...(failure.registrationId !== null && { registrationId: failure.registrationId }),
      error: {
        code: failure.code,
        message: failure.message ?? failure.code,
        ...(failure.detail !== null && { detail: failure.detail }),
      },
    });
  }
  return holds;
}

/**
 * The failures in a row of `board` on a port (its runs newest first) as its slot counted them
 * when the station that ran them stopped. The slot counted its own station's runs one by one;
 * at its first failure of the board it asked the store for the failures before it
 * (failureStreak.ts earlierFailuresIn), and took those started within EARLIER_FAILURES_WINDOW_MS
 * before it, `earlierLimit` at most. Older failures belong to an earlier attempt at the board:
 * counting them here held a board after a restart that its slot had not held before it.
 */
export function failuresAtStop(
  runs: readonly RecentRun[],
  board: { serialNumber: string; model: string },
  earlierLimit: number,
): number {
  let failed = 0;
  let first: RecentRun | undefined;
  let owner: string | null | undefined;
  let i = 0;
  for (; i < runs.length; i++) {
    const run = runs[i]!;
    const pressed = run.startedBy === 'operator';
    if (saysNothingOfTheBoard(run)) {
      if (pressed) return failed;
      continue;
    }
    if (owner === undefined) owner = run.ownerToken;
    else if (run.ownerToken !== owner) break;
    const same = run.serialNumber === board.serialNumber && run.model === board.model;
    if (run.state !== 'fail' || !same) return failed;
    failed += 1;
    first = run;
    // The operator's start began the slot's count again, and it asked for nothing earlier.
    if (pressed) return failed;
  }
  if (first === undefined || i === runs.length) return failed;
  const since = Date.parse(first.finishedAt) - EARLIER_FAILURES_WINDOW_MS;
  const earlier = runs.slice(i).filter((run) => Date.parse(run.startedAt) >= since);
  return failed + countFailedRunsInARow(earlier, { ...board, limit: earlierLimit });
}
