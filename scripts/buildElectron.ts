/**
 * Builds the desktop shell into dist/electron (`npm run build:electron`): main.js and
 * coreEntry.js as ES modules, preload.cjs as CommonJS (a sandboxed preload cannot load ES
 * modules or require anything but `electron`); see nodeBundle.ts.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  console.log(`electron: built ${ELECTRON_DIST}`);
}
