/**
 * `station start` builds the desktop shell before each window: only when a source is newer than
 * the build, and beside the running one, so a second start never empties dist/electron under a
 * window that loads its preload and core from there. A stand-in build keeps Vite out of it.
 */
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ensureElectronBuilt } from './buildElectron.js';

const fakeBuild = (text: string) =>
  vi.fn(async (outDir: string) => {
    mkdirSync(outDir, { recursive: true });
    for (const file of ['main.js', 'coreEntry.js', 'preload.cjs']) {
      writeFileSync(join(outDir, file), text);
    }
  });

describe('ensureElectronBuilt', () => {
  it('builds a missing shell, then nothing until a source is newer than the build', async () => {
    const dist = join(mkdtempSync(join(tmpdir(), 'electron-dist-')), 'electron');
    const build = fakeBuild('first');
    expect(await ensureElectronBuilt(dist, build)).toBe(true);
    expect(readFileSync(join(dist, 'preload.cjs'), 'utf8')).toBe('first');
    expect(await ensureElectronBuilt(dist, build)).toBe(false);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('rebuilds a stale shell beside the one a window runs, never emptying it', async () => {
    const dist = join(mkdtempSync(join(tmpdir(), 'electron-dist-')), 'electron');
    await fakeBuild('running')(dist);
    const longAgo = new Date('2001-01-01T00:00:00Z');
    utimesSync(join(dist, 'main.js'), longAgo, longAgo);
    const seenDuringBuild: string[] = [];
    const build = fakeBuild('next');
    const watched = async (outDir: string): Promise<void> => {
      seenDuringBuild.push(readFileSync(join(dist, 'preload.cjs'), 'utf8'));
      await build(outDir);
      seenDuringBuild.push(readFileSync(join(dist, 'preload.cjs'), 'utf8'));
    };
    expect(await ensureElectronBuilt(dist, watched)).toBe(true);
    expect(seenDuringBuild).toEqual(['running', 'running']);
    expect(build.mock.calls[0]![0]).not.toBe(dist);
    expect(readFileSync(join(dist, 'main.js'), 'utf8')).toBe('next');
  });
});
