/**
 * `npm run station` builds what its commands need first: the station and the UI its `serve`
 * links to. Real Vite builds into a temporary folder; the repository's own builds are untouched.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareStation } from './prepareStation.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'prepare-station-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('npm run station', () => {
  it('runs prepareStation first', () => {
    const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.prestation).toBe('tsx scripts/prepareStation.ts');
  });

  it('builds a missing UI and station, then nothing until a build is older than its sources', async () => {
    const targets = {
      stationDist: join(root, 'dist', 'station'),
      rendererDist: join(root, 'renderer', 'dist'),
    };
    expect(await prepareStation(targets)).toEqual([targets.stationDist, targets.rendererDist]);
    const page = join(targets.rendererDist, 'index.html');
    expect(readFileSync(page, 'utf8')).toContain('<script type="module"');
    expect(existsSync(join(targets.stationDist, 'cli.js'))).toBe(true);

    expect(await prepareStation(targets)).toEqual([]);

    // A UI built before its sources last changed is built again, and only the UI.
    const longAgo = new Date('2001-01-01T00:00:00Z');
    await utimes(page, longAgo, longAgo);
    expect(await prepareStation(targets)).toEqual([targets.rendererDist]);
    expect(readFileSync(page, 'utf8')).toContain('<script type="module"');
    // Built beside the old one and swapped in: no work folder is left behind.
    expect(readdirSync(join(root, 'renderer', '.vite'))).toEqual([]);
  }, 120_000);
});
