/**
 * Which native modules `npm run make` rebuilds for Electron's ABI. The rebuild itself needs
 * Electron's headers from the network; choosing the modules does not, so this asks the
 * @electron/rebuild that Forge runs which modules forge.config.js's `rebuildConfig` selects.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rebuilder } from '@electron/rebuild/lib/rebuild.js';
import { describe, expect, it } from 'vitest';
import forgeConfig from '../../forge.config.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const electronVersion = (
  JSON.parse(
    readFileSync(new URL('../../node_modules/electron/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;

describe('rebuildConfig', () => {
  it('rebuilds better-sqlite3 and @serialport/bindings-cpp and no other module, even if built', async () => {
    const config = forgeConfig.rebuildConfig ?? {};
    expect(config.force).toBe(true);
    const rebuilder = new Rebuilder({
      ...config,
      buildPath: repoRoot,
      electronVersion,
      lifecycle: new EventEmitter(),
    });
    // The walker also names packages that merely share a name (@types/better-sqlite3); like
    // rebuildModuleAt, only folders with a binding.gyp are built.
    const built = (await rebuilder.modulesToRebuild())
      .filter((path) => existsSync(join(path, 'binding.gyp')))
      .map((path) => relative(repoRoot, path).replaceAll('\\', '/'));
    expect(built).toContain('node_modules/better-sqlite3');
    expect(built).toContain('node_modules/@serialport/bindings-cpp');
    // Nested copies count too (serialport carries its own bindings-cpp); nothing else native.
    const names = new Set(built.map((path) => path.replace(/^(.*\/)?node_modules\//, '')));
    expect([...names].sort()).toEqual(['@serialport/bindings-cpp', 'better-sqlite3']);
  });
});
