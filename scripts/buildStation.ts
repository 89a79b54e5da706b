/**
 * Builds the station command line into dist/station when its sources changed (`npm start` and
 * `npm run station` run this first), so the station runs as bundled JavaScript under plain Node,
 * as the Electron build runs the same core. Under tsx it would compile every source at each start
 * and keep a module loader thread whose esbuild service tsx pings every second for as long as the
 * station runs. Run directly (`tsx scripts/buildStation.ts`) it builds if needed and says so.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuild } from './buildFailure.js';
import { isStale } from './buildFreshness.js';
import { buildAsideThenSwap } from './buildSwap.js';
import { nodeBundleConfig, repoRoot } from './nodeBundle.js';

/** Where `npm start` runs the station from. */
export const STATION_DIST = join(repoRoot, 'dist', 'station');

/** Everything the bundle is made of: the core, the libraries, and the build configuration. */
const SOURCES = ['station', 'firmware-bridge', 'certs', 'dps', 'scripts', 'package.json'];

/**
 * Builds `cli.js` and its chunks into `outDir`, which must be a folder directly under dist/: the
 * station finds the built UI and the app folder two folders up from its own files.
 */
export async function buildStation(outDir: string = STATION_DIST): Promise<void> {
  // Loaded only to build: every `npm run station` checks first, and most find nothing to build.
  const { build } = await import('vite');
  await build(nodeBundleConfig({ cli: 'station/cli.ts' }, 'es', outDir, true, true));
}

/**
 * Rebuilds dist/station when any source is newer; returns whether it built. The new build is
 * made beside the old one and swapped in, so a station starting meanwhile (a supervisor's
 * `npm run station -- queue stats` while the line runs) never loads a half-written folder.
 */
export async function ensureStationBuilt(dist: string = STATION_DIST): Promise<boolean> {
  if (!(await isStale(repoRoot, join(dist, 'cli.js'), SOURCES))) return false;
  await buildAsideThenSwap(dist, buildStation);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // On stderr, and only when it built: `npm run station -- queue export` writes data to stdout.
  process.exitCode = await runBuild(
    'station',
    'station',
    STATION_DIST,
    ensureStationBuilt,
    (built) => {
      if (built) console.error(`station: built ${STATION_DIST}`);
    },
  );
}
