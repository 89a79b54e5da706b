/**
 * Builds the desktop shell into dist/electron (`npm run build:electron`): main.js and
 * coreEntry.js as ES modules, preload.cjs as CommonJS (a sandboxed preload cannot load ES
 * modules or require anything but `electron`). npm packages stay external and load from
 * node_modules; station/ and the libraries are bundled in.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** Where `package.json` "main" points. */
export const ELECTRON_DIST = join(repoRoot, 'dist', 'electron');

function config(
  input: Record<string, string>,
  format: 'es' | 'cjs',
  outDir: string,
  emptyOutDir: boolean,
): InlineConfig {
  return {
    configFile: false,
    root: repoRoot,
    logLevel: 'warn',
    envDir: false,
    build: {
      ssr: true,
      outDir,
      emptyOutDir,
      target: 'node22',
      minify: false,
      sourcemap: true,
      rolldownOptions: {
        input: Object.fromEntries(
          Object.entries(input).map(([name, path]) => [name, join(repoRoot, path)]),
        ),
        output: { format, entryFileNames: format === 'cjs' ? '[name].cjs' : '[name].js' },
      },
    },
    // The preload must carry everything it uses except `electron` itself.
    ssr: format === 'cjs' ? { noExternal: true, external: ['electron'] } : {},
  };
}

/**
 * Builds all three entries into `outDir` (default ELECTRON_DIST, which `package.json` "main"
 * expects; tests build elsewhere so they never race a developer's build).
 */
export async function buildElectron(outDir: string = ELECTRON_DIST): Promise<void> {
  const entries = { main: 'electron/main.ts', coreEntry: 'electron/coreEntry.ts' };
  await build(config(entries, 'es', outDir, true));
  await build(config({ preload: 'electron/preload.ts' }, 'cjs', outDir, false));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  console.log(`electron: built ${ELECTRON_DIST}`);
}
