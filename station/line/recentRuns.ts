/**
 * The line's latest ended runs, for the UI's recent-runs list: a slot card shows only its latest
 * run, so once the next device is plugged in an earlier failure would be gone from the screen.
 * The list is read from the store at every ask, so it survives a restart of the station and a
 * reconnect of the UI, and it says what the store recorded, not what a slot last showed.
 */
import type { RecentRunsQuery, RunView } from './lineTypes.js';
import type { RunRecorder } from './runRecorder.js';

/**
 * The recent runs of the recorder `recorder()` returns when asked; none from a recorder that
 * keeps no history. A function, so that a Line can take it as a field before its options are set.
 */
export function recentRunsIn(recorder: () => RunRecorder): (query: RecentRunsQuery) => RunView[] {
  return (query) => recorder().recentRuns?.(query) ?? [];
}
