/**
 * What `npm run station` runs first: builds the station command line (dist/station) and its UI
 * (renderer/dist) when either is missing or older than its sources. `station serve` prints a link
 * to the UI, and a link that answers "UI is not built" sends a supervisor back to the terminal.
 * Up to date, it only compares modification times, so a repeated command starts at once. It
 * writes to stderr, and only when it built: `npm run station -- queue export` writes data to
 * stdout.
 */
import { fileURLToPath } from 'node:url';
import { ensureStationBuilt, STATION_DIST } from './buildStation.js';
import { ensureRendererBuilt, RENDERER_DIST } from './rendererBuild.js';

export interface StationBuildTargets {
  stationDist?: string;
  rendererDist?: string;
}

/** Builds what is stale; returns the folders it built. */
export async function prepareStation(targets: StationBuildTargets = {}): Promise<string[]> {
  const stationDist = targets.stationDist ?? STATION_DIST;
  const rendererDist = targets.rendererDist ?? RENDERER_DIST;
  const built: string[] = [];
  // One after the other: two Vite builds at once would share one process's resources for nothing.
  if (await ensureStationBuilt(stationDist)) built.push(stationDist);
  if (await ensureRendererBuilt(rendererDist)) built.push(rendererDist);
  return built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const folder of await prepareStation()) console.error(`station: built ${folder}`);
}
