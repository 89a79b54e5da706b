/**
 * The Vite (rolldown) configuration for bundling our TypeScript to plain-Node JavaScript: the
 * Electron shell's entries (buildElectron.ts), the station command line (buildStation.ts) and
 * the benchmarks (buildBench.ts). npm packages stay external and load from node_modules;
 * station/ and the libraries are bundled in.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * @param input entry name → path from the repository root.
 * @param chunksBesideEntries puts shared chunks in outDir itself rather than outDir/assets. Code
 *   that finds files with `new URL('../..', import.meta.url)` resolves them from its chunk's
 *   folder, so a bundle that relies on that must keep every chunk two folders deep, as its sources
 *   are (dist/<name>/).
 */
export function nodeBundleConfig(
  input: Record<string, string>,
  format: 'es' | 'cjs',
  outDir: string,
  emptyOutDir: boolean,
  chunksBesideEntries = false,
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
        output: {
          format,
          entryFileNames: format === 'cjs' ? '[name].cjs' : '[name].js',
          ...(chunksBesideEntries ? { chunkFileNames: '[name]-[hash].js' } : {}),
        },
      },
    },
    // A CommonJS bundle (the sandboxed preload) must carry everything it uses but `electron`.
    ssr: format === 'cjs' ? { noExternal: true, external: ['electron'] } : {},
  };
}
