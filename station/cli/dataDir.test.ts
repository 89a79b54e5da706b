import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveDataDir } from './dataDir.js';

afterEach(() => vi.unstubAllEnvs());

describe('resolveDataDir', () => {
  it('takes the flag, else LINE_STATION_DATA, else ~/.line-station', () => {
    vi.stubEnv('LINE_STATION_DATA', '/srv/line7');
    expect(resolveDataDir('rel/dir')).toBe(resolve('rel/dir'));
    expect(resolveDataDir()).toBe('/srv/line7');
  });

  it('never falls back to the working directory for an empty value', () => {
    // `Environment=LINE_STATION_DATA=` in a unit file, or `export LINE_STATION_DATA=$UNSET`:
    // resolve('') is the working directory, where the CA and database would silently land.
    vi.stubEnv('LINE_STATION_DATA', '');
    expect(resolveDataDir()).toBe(join(homedir(), '.line-station'));
    expect(() => resolveDataDir('')).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
    expect(() => resolveDataDir('   ')).toThrow(/--data-dir/);
  });
});
