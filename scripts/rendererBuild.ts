/**
 * Builds the station UI (renderer/dist) when its sources are newer than the build, so
 * `npm start`, `npm test` and the UI tests never serve a stale or missing UI. Run directly
 * (`tsx scripts/rendererBuild.ts`) it builds if needed and says which.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isStale } from './buildFreshness.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where the built UI lands; the headless server and the Electron shell serve it. */
export const RENDERER_DIST = join(repoRoot, 'renderer', 'dist');

const SOURCES = [
  'renderer/index.html',
  'renderer/vite.config.ts',
  'renderer/src',
  'renderer/public',
  'station/api',
];

/** True when renderer/dist is missing or older than any of the UI's sources. */
export async function rendererIsStale(): Promise<boolean> {
  return isStale(repoRoot, join(RENDERER_DIST, 'index.html'), SOURCES);
}

/** Builds the UI with Vite (the same as `npm run build:renderer`). */
export async function buildRenderer(): Promise<void> {
  const { build } = await import('vite');
  // Vite keeps a NODE_ENV it finds; under Vitest that is `test`, which would bundle React's
  // development build. The UI is always built for production.
  const saved = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(repoRoot, 'renderer', 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/** Builds only when stale; returns whether it built. */
export async function ensureRendererBuilt(): Promise<boolean> {
  if (!(await rendererIsStale())) return false;
  await buildRenderer();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await ensureRendererBuilt();
  console.log(built ? `renderer: built ${RENDERER_DIST}` : 'renderer: renderer/dist is up to date');
}
