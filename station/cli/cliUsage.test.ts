import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
const workDir = mkdtempSync(join(tmpdir(), 'cli-usage-cwd-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs `station …` from an empty folder; returns the exit code and standard error. */
async function station(args: string[], env: Record<string, string> = {}) {
  try {
    const { stderr } = await run(TSX, [CLI, ...args], {
      cwd: workDir,
      env: { ...process.env, LINE_STATION_DATA: dataDir, ...env },
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

// Exit 2 is a usage error; `provision` promises scripts that 1 means the device failed.
describe('station usage errors exit 2 and name the flag', () => {
  it.each([
    [['queue', 'stats', '--staus', 'failed'], '--staus'],
    [['queue', 'list', '--limit', 'abc'], '--limit'],
    [['queue', 'list', '--limit', '0'], '--limit'],
    [['ca', 'list', '--limit', 'ten'], '--limit'],
    [['ca', 'init', '--name', 'Line', '7'], 'unexpected "7"'],
    [['queue', 'stats', '--data-dir', ''], '--data-dir is empty'],
  ])(
    'station %j',
    async (args, named) => {
      const { code, stderr } = await station(args);
      expect(stderr).toContain(named);
      expect(code).toBe(2);
    },
    20_000,
  );

  it('an empty LINE_STATION_DATA does not put the station in the working directory', async () => {
    const { stderr } = await station(['queue', 'stats'], { LINE_STATION_DATA: '', HOME: dataDir });
    expect(readdirSync(workDir)).toEqual([]);
    expect(stderr).toContain(`no station in ${join(dataDir, '.line-station')}`);
  }, 20_000);
});
