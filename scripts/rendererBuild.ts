/**
 * Builds the station UI (renderer/dist) when its sources are newer than the build, so
 * `npm start`, `npm run station`, `npm test` and the UI tests never serve a stale or missing UI.
 * Run directly (`tsx scripts/rendererBuild.ts`) it builds if needed and says which.
 */
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuild } from './buildFailure.js';
import { isStale } from './buildFreshness.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where the built UI lands; the headless server and the Electron shell serve it. */
export const RENDERER_DIST = join(repoRoot, 'renderer', 'dist');

/**
 * The UI bundles react, react-dom and zod into renderer/dist, so an upgrade of them (package.json,
 * package-lock.json) makes it stale as much as an edit of its own sources does.
 */
const SOURCES = [
  'renderer/index.html',
  'renderer/vite.config.ts',
  'renderer/tsconfig.json',
  'renderer/src',
  'renderer/public',
  'station/api',
  'package.json',
  'package-lock.json',
];

/** True when `dist` (renderer/dist) is missing or older than any of the UI's sources. */
export async function rendererIsStale(dist: string = RENDERER_DIST): Promise<boolean> {
  return isStale(repoRoot, join(dist, 'index.html'), SOURCES);
}

/** Builds the UI with Vite into `outDir` (the same as `npm run build:renderer`). */
export async function buildRenderer(outDir: string = RENDERER_DIST): Promise<void> {
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
      build: { outDir },
    });
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/**
 * Builds only when stale; returns whether it built. The new UI is built beside the old one (in
 * the ignored .vite folder next to it) and swapped in, so a station serving it meanwhile (a line
 * running while a supervisor's `npm run station -- queue stats` rebuilds) never serves an empty
 * or half-written folder.
 */
export async function ensureRendererBuilt(dist: string = RENDERER_DIST): Promise<boolean> {
  if (!(await rendererIsStale(dist))) return false;
  const work = join(dirname(dist), '.vite');
  const next = join(work, `dist-next-${process.pid}`);
  const old = join(work, `dist-old-${process.pid}`);
  try {
    await buildRenderer(next);
    await rename(dist, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(next, dist).catch((err: NodeJS.ErrnoException) => {
      // Another build swapped its own in between the two renames: it is as new as this one.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(next, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runBuild(
    'renderer',
    'station UI',
    RENDERER_DIST,
    ensureRendererBuilt,
    (built) =>
      console.log(
        built ? `renderer: built ${RENDERER_DIST}` : 'renderer: renderer/dist is up to date',
      ),
  );
}
