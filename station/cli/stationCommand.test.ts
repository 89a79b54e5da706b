import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncLog } from '../production/syncLog.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { queue } from './queueCommand.js';
import { syncCommand } from './syncCommand.js';

/**
 * The commands the station tells a supervisor to run next name its data folder when that is not
 * the default one: pasted as printed into a real shell, they reach the same store. Real SQLite
 * files, the real `sync status` and `queue list` commands, `sh` splitting the pasted line.
 */

let root: string;
let output: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'station-command-'));
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.stubEnv('LINE_STATION_DATA', '');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

/** A station store in `folder` with one enrollment in conflict, as a sync leaves it. */
async function stationWithConflict(folder: string): Promise<string> {
  const station = new SyncTestStation();
  try {
    const id = station.provision('SN1');
    station.db
      .prepare(
        `UPDATE enrollments SET status = 'conflict', last_error_code = 'SYNC_CONFLICT',
        last_error = 'DPS holds it with a symmetric key' WHERE id = ?`,
      )
      .run(id);
    mkdirSync(folder, { recursive: true });
    await station.db.backup(join(folder, 'station.db'));
    return station.row(id).registrationId;
  } finally {
    await station.close();
  }
}

/** The words a POSIX shell makes of `line`, as a supervisor's paste would be split. */
function shellWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

const status = (args: string[]) => syncCommand(() => ({}) as never)(['status', ...args]);

describe('a command the station suggests', () => {
  it('names a data folder that is not the default, quoted, and reaches its store when pasted', async () => {
    const folder = join(root, "line 7's data");
    const registrationId = await stationWithConflict(folder);
    expect(await status(['--data-dir', folder])).toBe(0);
    const suggested = /wait for a supervisor: (station queue list .*)$/m.exec(output.join('\n'));
    expect(suggested?.[1]).toBe(
      `station queue list --status conflict --data-dir '${root}/line 7'\\''s data'`,
    );

    // Pasted into a shell, then run: it lists the conflict of this folder's store.
    const [station, ...args] = shellWords(suggested![1]!);
    expect(station).toBe('station');
    expect(args).toEqual(['queue', 'list', '--status', 'conflict', '--data-dir', folder]);
    output.length = 0;
    expect(await queue(args.slice(1))).toBe(0);
    expect(output.join('\n')).toContain(registrationId);

    // The serving line's log names it as well.
    const line = new SyncLog(folder).trouble({
      at: new Date().toISOString(),
      settled: 1,
      conflicts: [registrationId],
      failed: [],
    });
    expect(line).toContain(
      `check them in DPS (station queue list --status conflict --data-dir '${root}/line 7'\\''s data')`,
    );
    expect(line).toContain(
      `station queue requeue --status conflict --by NAME --data-dir '${root}/line 7'\\''s data'`,
    );
  });

  it('leaves the flag out for the default folder, ~/.line-station', async () => {
    vi.stubEnv('HOME', root);
    await stationWithConflict(join(root, '.line-station'));
    expect(await status([])).toBe(0);
    expect(output).toContain(
      '  Failed and conflict rows wait for a supervisor: station queue list --status conflict',
    );
    const line = new SyncLog(join(root, '.line-station')).trouble({
      at: new Date().toISOString(),
      settled: 1,
      conflicts: ['x'],
      failed: [],
    });
    expect(line).not.toContain('--data-dir');
  });
});
