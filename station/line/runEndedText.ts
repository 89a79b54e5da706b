import type { RunEnded } from './line.js';

/**
 * One log line per run that ended, for a station with no window to show it: the DEMO's terminal
 * and a served line's log (journalctl on a line started at boot). The run id, where the store
 * keeps runs, is what `station runs show ID` takes. The operator text names no secret; the
 * detail stays in the store.
 */
export function runEndedText(
  { slot, port, outcome }: Pick<RunEnded, 'slot' | 'port' | 'outcome'>,
  options: { runId: boolean },
): string {
  const run = options.runId && outcome.runId !== undefined ? ` (run ${outcome.runId})` : '';
  if (outcome.state === 'pass') {
    return `slot ${slot} ${port}: PASS ${outcome.record.registrationId}${run}`;
  }
  const { code, message } = outcome.error;
  return `slot ${slot} ${port}: ${outcome.state.toUpperCase()} ${code}: ${message}${run}`;
}
