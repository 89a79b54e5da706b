/**
 * A station log whose folder is on a read-only disk or mount says so, coded, naming the folder
 * and what to do, in the words of the database's STORE_READ_ONLY said of the log: not Node's
 * "ENOENT" (its recursive mkdir's answer on a read-only mount), and not "its database". Real
 * parts: a real tmpfs mounted here and made read-only (so root, who passes every permission
 * check, meets the refusal too), the real log file and loggedToFile.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LineController } from '../line/lineController.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { LOG_FILE_NAME, loggedToFile, logFolder, StationLogFile } from './stationLogFile.js';

/** Runs mount or umount; the error names what it said. */
function mountCommand(...args: string[]): void {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr || result.error}`);
}

const mountTmpfs = (at: string, options: string): void =>
  mountCommand('mount', '-t', 'tmpfs', '-o', `size=1m,mode=0755,${options}`, 'tmpfs', at);

/** Why no tmpfs can be mounted here (not root, no right to mount), or undefined. */
const cannotMount: string | undefined = (() => {
  if (process.platform !== 'linux') return 'tmpfs mounts are Linux only';
  const probe = mkdtempSync(join(tmpdir(), 'ls-log-probe-'));
  try {
    mountTmpfs(probe, 'rw');
    mountCommand('umount', probe);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

let root: string;
const mounted: string[] = [];
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ls-log-ro-'));
});
afterEach(() => {
  for (const at of mounted.splice(0).reverse()) mountCommand('umount', at);
  rmSync(root, { recursive: true, force: true });
});

/** Mounts a read-only tmpfs at `at` (made if missing), unmounted after the test. */
function readOnlyMount(at: string): void {
  mkdirSync(at, { recursive: true });
  mountTmpfs(at, 'ro');
  mounted.push(at);
}

describe.skipIf(cannotMount)('the station log on a read-only mount', () => {
  it('names the log folder it cannot create and its read-only mount, once, coded', () => {
    const dataDir = join(root, 'line');
    readOnlyMount(dataDir);
    const problems: string[] = [];
    const log = new StationLogFile(dataDir, { onProblem: (text) => problems.push(text) });
    log.write('Line Station starts');
    log.write('slot 1: PASS');
    log.close();

    expect(problems).toHaveLength(1);
    const [problem] = problems as [string];
    expect(problem).toContain(
      `The station log folder ${logFolder(dataDir)} cannot be created: ${dataDir}, where it would be, is on a read-only disk or mount, so the station cannot write its log there.`,
    );
    expect(problem).toMatch(/remount it read-write/);
    expect(problem).toMatch(/tries the log again with its first line a minute or more later/);
    expect(problem).toContain('[STATION_LOG_READ_ONLY]');
    expect(problem).toMatch(/\n {2}detail: .*EROFS: read-only file system/);
    expect(problem).not.toMatch(/database/);
    expect(problem).not.toMatch(/^The station log cannot be written to/);
  });

  it('names the log folder that is a read-only mount of its own, and the line runs on', async () => {
    const dataDir = join(root, 'line');
    readOnlyMount(logFolder(dataDir));
    const shown: string[] = [];
    const factory = loggedToFile(async (context) => {
      context.log('Line ready');
      return { line: {} as LineController, stop: async () => context.log('Stopping') };
    }, dataDir);
    const running = await factory({ log: (line) => shown.push(line) });
    await running.stop();

    expect(shown).toHaveLength(3);
    const [problem] = shown as [string];
    expect(problem).toMatch(
      /^The station log folder \S+ is on a read-only disk or mount, so the station cannot write its log there\./,
    );
    expect(problem).toContain(`folder ${logFolder(dataDir)} is on`);
    expect(problem).toContain('[STATION_LOG_READ_ONLY]');
    expect(problem).toContain(
      `\n  detail: EROFS: read-only file system, open '${join(logFolder(dataDir), LOG_FILE_NAME)}'`,
    );
    expect(problem).not.toMatch(/database/);
    expect(shown.slice(1)).toEqual(['Line ready', 'Stopping']);
  });

  it('says of each part what it cannot write, when a start meets a read-only data folder', async () => {
    const dataDir = join(root, 'line');
    readOnlyMount(dataDir);
    const shown: string[] = [];
    // The line's start as productionStation.ts begins it: the store opened for writing.
    const factory = loggedToFile(async () => {
      openStationDatabase(join(dataDir, 'station.db'), { requireWritable: true });
      throw new Error('the store opened on a read-only mount');
    }, dataDir);

    const refused = factory({ log: (line) => shown.push(line) });
    await expect(refused).rejects.toMatchObject({
      code: 'STORE_READ_ONLY',
      message: expect.stringMatching(
        /^The station data folder \S+ is on a read-only disk or mount, so the station cannot write its database there\./,
      ),
    });
    expect(shown).toEqual([
      expect.stringMatching(
        /^The station log folder \S+ cannot be created: \S+, where it would be, is on a read-only disk or mount, so the station cannot write its log there\.[^\n]*\[STATION_LOG_READ_ONLY\]/,
      ),
    ]);
  });
});
