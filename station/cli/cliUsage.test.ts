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

/** Runs `station …` from an empty folder; returns the exit code and both outputs. */
async function station(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      cwd: workDir,
      env: { ...process.env, LINE_STATION_DATA: dataDir, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Exit 2 is a usage error; `provision` promises scripts that 1 means the device failed.
describe('station usage errors exit 2 and name the flag', () => {
  it.each([
    [['queue', 'stats', '--staus', 'failed'], '--staus'],
    [['queue', 'list', '--limit', 'abc'], '--limit'],
    [['queue', 'list', '--limit', '0'], '--limit'],
    [['ca', 'list', '--limit', 'ten'], '--limit'],
    [['ca', 'init', '--name', 'Line', '7'], 'a word it does not take (not shown'],
    [['ca', 'init', 'MySecretPass123', 'x'], '2 words it does not take (not shown'],
    [['queue', 'stats', '--data-dir', ''], '--data-dir is empty'],
    [['bundle', 'sync'], 'give one FILE'],
    [['bundle', 'export', 'stick.bundle'], 'a word it does not take (not shown'],
    [['bundle', 'sync', 'x.bundle', '--include-carried'], '--include-carried is not one of'],
    [['bundle', 'sync', 'x.bundle', '--by', 'x'.repeat(257)], '--by is longer than 256'],
    [['bundle', 'export', '--out', 'no-such-stick/'], 'there is no such folder'],
    [['bundle', 'export', '--by', ''], '--by is empty'],
  ])(
    'station %j',
    async (args, named) => {
      const { code, stderr } = await station(args);
      expect(stderr).toContain(named);
      expect(stderr).not.toContain('MySecretPass123');
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

describe('station help for one command', () => {
  it.each([
    ['serve', '--profiles FILE'],
    ['emulator', '--id-scope SCOPE'],
    ['ca', 'ca init'],
    ['sync', 'sync set-connection'],
    ['bundle', 'bundle receive FILE'],
  ])(
    "station %s --help prints that command's options and exits 0",
    async (command, shown) => {
      const { code, stdout } = await station([command, '--help']);
      expect(stdout).toContain(shown);
      expect(code).toBe(0);
    },
    20_000,
  );
});

describe('a wrong CA passphrase', () => {
  it('says so when it came from LINE_STATION_CA_PASSPHRASE, where typing again cannot help', async () => {
    const station1 = join(dataDir, 'wrong-passphrase');
    const init = await station(['ca', 'init', '--data-dir', station1], {
      LINE_STATION_CA_PASSPHRASE: 'the right passphrase',
    });
    expect(init.code).toBe(0);
    const { code, stderr } = await station(['sync', 'set-connection', '--data-dir', station1], {
      LINE_STATION_CA_PASSPHRASE: 'a wrong passphrase',
      LINE_STATION_DPS_CONNECTION:
        'HostName=dps.example;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=a2V5',
    });
    expect(stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');
    expect(stderr).toContain('came from LINE_STATION_CA_PASSPHRASE');
    expect(code).toBe(1);
  }, 60_000);
});

describe('a word where a command takes none', () => {
  it('is refused without repeating it: a secret typed as a word stays out of stderr', async () => {
    const secret = Buffer.from('the group key typed as a word').toString('base64');
    const { code, stdout, stderr } = await station(['keys', 'set-group', '--group', 'g1', secret]);
    expect(code).toBe(2);
    expect(stderr).toContain('this command takes no positional argument');
    expect(stderr).toContain('the word given is not shown');
    expect(`${stdout}${stderr}`).not.toContain(secret);
    expect(`${stdout}${stderr}`).not.toContain(secret.slice(0, 8));
  }, 20_000);
});
