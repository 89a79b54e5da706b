/**
 * Builds the benchmarks into dist/bench (`npm run bench` does this first), so that they measure
 * the station as it ships: bundled JavaScript under plain Node, as the Electron build runs the
 * core. Under tsx, the process also carries tsx's module loader thread and its esbuild service,
 * which pings that thread every second for as long as the process lives: about 1.3 ms of CPU per
 * second here, which the line bench would charge to the station.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { nodeBundleConfig, repoRoot } from './nodeBundle.js';

export const BENCH_DIST = join(repoRoot, 'dist', 'bench');

export async function buildBench(): Promise<void> {
  await build(nodeBundleConfig({ run: 'test/bench/run.ts' }, 'es', BENCH_DIST, true, true));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildBench();
}
