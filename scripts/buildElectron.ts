/**
 * Builds the desktop shell into dist/electron (`npm run build:electron`, and `station start`
 * before each window): main.js and coreEntry.js as ES modules, preload.cjs as CommonJS (a
 * sandboxed preload cannot load ES modules or require anything but `electron`); see
 * nodeBundle.ts. Run directly it builds only when a source is newer than the build.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { runBuild } from './buildFailure.js';
import { isStale } from './buildFreshness.js';
import { buildAsideThenSwap } from './buildSwap.js';
import { nodeBundleConfig, repoRoot } from './nodeBundle.js';

/** Where `package.json` "main" points. */
export const ELECTRON_DIST = join(repoRoot, 'dist', 'electron');

/**
 * Builds all three entries into `outDir` (default ELECTRON_DIST, which `package.json` "main"
 * expects; tests build elsewhere so they never race a developer's build).
 */
export async function buildElectron(outDir: string = ELECTRON_DIST): Promise<void> {
  const entries = { main: 'electron/main.ts', coreEntry: 'electron/coreEntry.ts' };
  await build(nodeBundleConfig(entries, 'es', outDir, true));
  await build(nodeBundleConfig({ preload: 'electron/preload.ts' }, 'cjs', outDir, false));
}

/** Everything the shell is made of: the shell, the core it runs, and the build configuration. */
const SOURCES = [
  'electron',
  'station',
  'firmware-bridge',
  'certs',
  'dps',
  'scripts',
  'package.json',
];

/**
 * Rebuilds dist/electron when any source is newer; returns whether it built. The new build is
 * made beside the old one and swapped in: a second `npm start` must not empty the folder a
 * running window loads its preload and core from.
 */
export async function ensureElectronBuilt(
  dist: string = ELECTRON_DIST,
  buildInto: (outDir: string) => Promise<void> = buildElectron,
): Promise<boolean> {
  if (!(await isStale(repoRoot, join(dist, 'main.js'), SOURCES))) return false;
  await buildAsideThenSwap(dist, buildInto);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ensure = (): Promise<boolean> => ensureElectronBuilt();
  process.exitCode = await runBuild('electron', 'desktop shell', ELECTRON_DIST, ensure, (built) =>
    console.log(
      built ? `electron: built ${ELECTRON_DIST}` : 'electron: dist/electron is up to date',
    ),
  );
}
