import type { FailedRunsQuery } from '../line/runRecorder.js';

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
    // A run the station's own stop ended, or one that failed before the device said who it
    // is, neither adds to the count nor ends it, as in the slot's own count.
    const silent =
      run.errorCode === 'RUN_INTERRUPTED' || (run.serialNumber === null && run.state === 'fail');
    if (silent) {
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
