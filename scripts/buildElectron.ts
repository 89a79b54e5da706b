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
  emptyOutDir: boolean,
): InlineConfig {
  return {
    configFile: false,
    root: repoRoot,
    logLevel: 'warn',
    envDir: false,
    build: {
      ssr: true,
      outDir: ELECTRON_DIST,
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

/** Builds all three entries. */
export async function buildElectron(): Promise<void> {
  await build(config({ main: 'electron/main.ts', coreEntry: 'electron/coreEntry.ts' }, 'es', true));
  await build(config({ preload: 'electron/preload.ts' }, 'cjs', false));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  console.log(`electron: built ${ELECTRON_DIST}`);
}
