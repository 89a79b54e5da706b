import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { audit } from './auditCommand.js';
import { ca } from './caCommand.js';
import { line } from './lineCommand.js';
import { queue } from './queueCommand.js';
import { runs } from './runsCommand.js';
import { syncCommand } from './syncCommand.js';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const root = mkdtempSync(join(tmpdir(), 'read-only-commands-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `station …` with LINE_STATION_DATA as given (unset when undefined). */
async function station(args: string[], dataEnv?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LINE_STATION_DATA;
  if (dataEnv !== undefined) env.LINE_STATION_DATA = dataEnv;
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('a data folder that is not a station', () => {
  it('ca status leaves it empty and names it; queue stats then still refuses', async () => {
    // A supervisor who forgot LINE_STATION_DATA, or mistyped --data-dir: `ca status` used to
    // make station.db there, after which `queue stats` printed zeros, as if all were synced.
    const folder = join(root, 'not-a-station');
    mkdirSync(folder);
    const status = await station(['ca', 'status', '--data-dir', folder]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('[CA_NOT_INITIALISED]');
    expect(status.stderr).toContain(`the data folder ${folder} (given by --data-dir`);
    expect(status.stderr).toContain('LINE_STATION_DATA is not set');
    expect(status.stderr).toContain(
      'a command uses --data-dir DIR, else $LINE_STATION_DATA, else ~/.line-station',
    );
    expect(readdirSync(folder)).toEqual([]);

    const stats = await station(['queue', 'stats', '--data-dir', folder]);
    expect(stats.stderr).toContain('[STATION_NOT_CONFIGURED]');
    expect(stats.stdout).toBe('');
    expect(stats.code).toBe(1);
    expect(readdirSync(folder)).toEqual([]);
  }, 30_000);

  it('says when the folder came from LINE_STATION_DATA', async () => {
    const folder = join(root, 'from-the-variable');
    mkdirSync(folder);
    const { code, stderr } = await station(['ca', 'status'], folder);
    expect(code).toBe(1);
    expect(stderr).toContain(`the data folder ${folder} (from LINE_STATION_DATA)`);
    expect(readdirSync(folder)).toEqual([]);
  }, 20_000);
});

describe('the commands that only read', () => {
  let output: string[];
  beforeEach(() => {
    output = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void output.push(text));
  });
  afterEach(() => vi.restoreAllMocks());

  it('create nothing in a folder that holds no station', async () => {
    const folder = join(root, 'empty');
    mkdirSync(folder);
    const refusals = [
      () => ca(['status', '--data-dir', folder]),
      () => ca(['list', '--data-dir', folder]),
      () => queue(['stats', '--data-dir', folder]),
      () => runs(['stats', '--data-dir', folder]),
      () => audit(['--data-dir', folder]),
      () => syncCommand(() => ({}) as never)(['status', '--data-dir', folder]),
    ];
    for (const refused of refusals) await expect(refused()).rejects.toHaveProperty('code');
    expect(await line(['show', '--data-dir', folder])).toBe(0);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('make no station.db in a station that has a CA and never ran a line', async () => {
    const folder = join(root, 'ca-only');
    mkdirSync(join(folder, 'ca'), { recursive: true });
    const notes: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void notes.push(text));
    expect(await queue(['stats', '--data-dir', folder])).toBe(0);
    expect(output.join('\n')).toMatch(/pending\s+0/);
    // Zeros with a word on why: a station.db lost or moved would read the same.
    expect(notes).toEqual([
      `note: ${folder} holds a CA but no station.db: no line has run with this folder, so there is nothing to report.`,
    ]);
    expect(await runs(['stats', '--data-dir', folder])).toBe(0);
    expect(await syncCommand(() => ({}) as never)(['status', '--data-dir', folder])).toBe(0);
    expect(readdirSync(folder)).toEqual(['ca']);
  });
});
