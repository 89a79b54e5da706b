/**
 * Builds the benchmarks into dist/bench (`npm run bench` does this first), so that they measure
 * the station as it ships: bundled JavaScript under plain Node, as the Electron build runs the
 * core. Under tsx, the process also carries tsx's module loader thread and its esbuild service,
 * which pings that thread every second for as long as the process lives: about 1.3 ms of CPU per
 * second here, which the line bench would charge to the station.
 */
import { join } from 'node:path';
import { build } from 'vite';
import { nodeBundleConfig, repoRoot } from './nodeBundle.js';

const benchDist = join(repoRoot, 'dist', 'bench');
await build(nodeBundleConfig({ run: 'test/bench/run.ts' }, 'es', benchDist, true, true));
