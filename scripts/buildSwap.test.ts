/**
 * The station and the desktop shell are built beside their folder and swapped in: nothing
 * loading the folder meets it empty, and two builds at once both succeed.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAsideThenSwap } from './buildSwap.js';

const writeBuild = (text: string) => async (outDir: string) => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'cli.js'), text);
};

describe('buildAsideThenSwap', () => {
  it('keeps the old build in place while building, then swaps, leaving nothing beside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'build-swap-'));
    const dist = join(root, 'station');
    await writeBuild('old')(dist);
    await buildAsideThenSwap(dist, async (outDir) => {
      expect(readFileSync(join(dist, 'cli.js'), 'utf8')).toBe('old');
      await writeBuild('new')(outDir);
    });
    expect(readFileSync(join(dist, 'cli.js'), 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['station']);
  });

  it('tolerates another build swapping its own in between the renames (ENOTEMPTY)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'build-swap-'));
    const dist = join(root, 'station');
    await writeBuild('old')(dist);
    const other = writeBuild('other');
    await buildAsideThenSwap(dist, writeBuild('mine'), () => other(dist));
    // Either build is as new as the other; the folder is whole, and nothing is left beside it.
    expect(readFileSync(join(dist, 'cli.js'), 'utf8')).toBe('other');
    expect(readdirSync(root)).toEqual(['station']);
  });

  it('leaves no half-written folder behind when the build fails', async () => {
    const root = mkdtempSync(join(tmpdir(), 'build-swap-'));
    const dist = join(root, 'station');
    await writeBuild('old')(dist);
    const failing = buildAsideThenSwap(dist, async (outDir) => {
      await writeBuild('half')(outDir);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await expect(failing).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readFileSync(join(dist, 'cli.js'), 'utf8')).toBe('old');
    expect(existsSync(`${dist}.next-${process.pid}`)).toBe(false);
  });
});
