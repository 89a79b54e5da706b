import type { StationFactory } from '../api/stationFactory.js';
import { hasDpsConnection } from '../sync/dpsCredentials.js';
import { markServing } from '../sync/servingStation.js';

/**
 * `factory` with the line recorded as serving `dataDir` while it runs (servingStation.ts), so
 * that `sync set-connection` and `sync status` can tell a serving line that runs no sync worker
 * from none at all, whichever way the line was started (`serve`, `start`, the desktop window).
 * The record is written once the line runs: a line that did not start serves nothing.
 */
export function servingLineStation(
  factory: StationFactory,
  dataDir: string,
  locked: boolean,
): StationFactory {
  return async (context) => {
    const connectionAtStart = hasDpsConnection(dataDir);
    const running = await factory(context);
    const unmark = markServing(dataDir, { connectionAtStart, locked }, new Date(), context.log);
    return {
      ...running,
      stop: async () => {
        try {
          await running.stop();
        } finally {
          unmark();
        }
      },
    };
  };
}
