/**
 * An export written to standard output that is a pipe (`queue export | gzip`, `… | ssh`), as a
 * hand-over script runs it: the real CLI in a child process, its output read through a pipe.
 * Node sends to a pipe a chunk at a time; the CLI must not exit before the last one went, or the
 * export is cut off after 64 KiB while it says it wrote every row.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');

let station: SyncTestStation;
beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

describe('queue export to a pipe', () => {
  it('writes every row, well past 64 KiB, before the CLI exits', async () => {
    const rows = 300;
    for (let i = 0; i < rows; i++) station.provision(`SN${String(i).padStart(5, '0')}`);
    const { stdout, stderr } = await run(
      TSX,
      [CLI, 'queue', 'export', '--format', 'json', '--data-dir', station.dir],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stderr).toContain(`Wrote ${rows} enrollment(s) to standard output`);
    expect(stdout.length).toBeGreaterThan(65_536);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(rows);
  }, 60_000);
});
