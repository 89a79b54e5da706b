import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStationDatabase } from '../store/stationDatabase.js';
import { queue } from './queueCommand.js';
import { syncCommand } from './syncCommand.js';

let root: string;
let output: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'queue-command-'));
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

describe('reading the outbox of a data directory', () => {
  it('refuses a folder with no station instead of reporting an empty outbox', async () => {
    // A mistyped --data-dir, or `sudo` moving ~ to /root: an empty new database would say
    // "0 pending, 0 failed" and the supervisor would believe everything was synced.
    const typo = join(root, 'line-statoin');
    for (const run of [
      () => queue(['stats', '--data-dir', typo]),
      () => queue(['list', '--data-dir', typo]),
      () => queue(['export', '--format', 'csv', '--data-dir', typo]),
      () => syncCommand(() => ({}) as never)(['status', '--data-dir', typo]),
    ]) {
      await expect(run()).rejects.toMatchObject({
        code: 'STATION_NOT_CONFIGURED',
        message: expect.stringContaining(typo),
      });
    }
    expect(existsSync(typo)).toBe(false);
  });

  it('reads the outbox of a station that has a database', async () => {
    openStationDatabase(join(root, 'station.db')).close();
    expect(await queue(['stats', '--data-dir', root])).toBe(0);
    expect(output.join('\n')).toMatch(/pending\s+0/);
  });
});
