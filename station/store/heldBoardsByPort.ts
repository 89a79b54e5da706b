import type Database from 'better-sqlite3';
import type { PortHold } from '../line/runRecorder.js';
import { countFailedRunsInARow, type EndedRunOnPort } from './failedRunsInARow.js';
import { LAST_RUNS_WINDOW } from './lastPassesByPort.js';

/**
 * The runs that ended among the newest LAST_RUNS_WINDOW, newest first, with the board each
 * named: the same bounded read by rowid as the restart's check of passes (lastPassesByPort.ts),
 * however large the history is.
 */
export const RECENT_ENDED_RUNS_SQL = `SELECT r.id, r.port, r.state, r.error_code AS errorCode,
    d.serial_number AS serialNumber, d.model, r.started_by AS startedBy
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
 * Its failures are counted as the slot counted them (countFailedRunsInARow): the operator's
 * start, a PASS, a cancel or another board ends the count.
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
    const failures = countFailedRunsInARow(runs, { serialNumber, model, limit: Infinity });
    if (failures < minFailures) continue;
    // The newest run the count took: a failure of this board that its stop did not cut short.
    const latest = runs.find(
      (run) =>
        run.state === 'fail' &&
        run.errorCode !== 'RUN_INTERRUPTED' &&
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
