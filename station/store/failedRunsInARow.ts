import type { FailedRunsQuery } from '../line/runRecorder.js';
import { isStationFault } from '../line/stationFaults.js';

/** An ended run as the failure count reads it (provisioningStatements' latestRunsOnPort). */
export interface EndedRunOnPort {
  state: string;
  errorCode: string | null;
  serialNumber: string | null;
  model: string | null;
  startedBy: string | null;
}

/**
 * How many of a port's latest runs (newest first) failed in a row for the queried device, read
 * as the slot's own count (failureStreak.ts) saw them. It stops at the first run that ends the
 * count, so the caller's iterator reads no further than it must.
 */
export function countFailedRunsInARow(
  runs: Iterable<EndedRunOnPort>,
  query: Pick<FailedRunsQuery, 'serialNumber' | 'model' | 'limit'>,
): number {
  let failed = 0;
  for (const run of runs) {
    // The operator's start began the slot's count again, whatever became of that run.
    const pressed = run.startedBy === 'operator';
    if (saysNothingOfTheBoard(run)) {
      if (pressed) break;
      continue;
    }
    const same = run.serialNumber === query.serialNumber && run.model === query.model;
    // A PASS, a cancel (someone was at the slot) or another device's run ends it.
    if (run.state !== 'fail' || !same) break;
    failed += 1;
    if (pressed || failed >= query.limit) break;
  }
  return failed;
}

/**
 * Whether a run neither adds to a board's count nor ends it, as in the slot's own count
 * (failureStreak.ts): the station's own stop ended it, it failed before the device said who it
 * is, or it failed for the station's sake (isStationFault: its disk, its CA, a missing key).
 */
export function saysNothingOfTheBoard(run: EndedRunOnPort): boolean {
  if (run.errorCode === 'RUN_INTERRUPTED') return true;
  if (run.state !== 'fail') return false;
  return run.serialNumber === null || (run.errorCode !== null && isStationFault(run.errorCode));
}
