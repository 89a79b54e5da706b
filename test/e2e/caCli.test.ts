import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { opensslCsr, opensslVerifyLeaf, pemBundle } from './opensslTools.js';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const PASSPHRASE = 'supervisor passphrase 7';

let dataDir: string;

/** Runs `station …` as a supervisor would; never throws, returns the exit code and output. */
async function station(args: string[], passphrase = PASSPHRASE) {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: { ...process.env, LINE_STATION_DATA: dataDir, LINE_STATION_CA_PASSPHRASE: passphrase },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-ca-cli-'));
});

describe('station ca', () => {
  it('creates a CA once, shows its status, and refuses a second one', async () => {
    const init = await station(['ca', 'init', '--name', 'Line 7']);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('station-root');
    const status = await station(['ca', 'status']);
    expect(status.stdout).toMatch(/subject\s+CN=Line 7 Issuing CA/);
    expect(status.stdout).toMatch(/sealed by passphrase/);
    const again = await station(['ca', 'init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[CA_ALREADY_INITIALISED]');
  });

  it('issues for a CSR a chain that openssl verifies, and lists it', async () => {
    const { pemPath } = await opensslCsr('line7-unit-17');
    const out = join(dataDir, '..', `${basename(dataDir)}-chain.pem`);
    const issued = await station([
      'ca',
      'issue',
      '--csr',
      pemPath,
      '--id',
      'line7-unit-17',
      '--out',
      out,
    ]);
    expect(issued.code).toBe(0);
    const [leaf, ...chain] = await pemBundle(out);
    expect(chain).toHaveLength(2);
    expect(await opensslVerifyLeaf(leaf!, chain)).toMatch(/Subject: CN ?= ?line7-unit-17/);
    const listed = await station(['ca', 'list', '--id', 'line7-unit-17']);
    expect(listed.stdout).toMatch(/issued\s+line7-unit-17/);
  });

  it('says which passphrase problem it is, with a stable code and exit 1', async () => {
    const { pemPath } = await opensslCsr('line7-unit-18');
    const wrong = await station(
      ['ca', 'issue', '--csr', pemPath, '--id', 'line7-unit-18'],
      'not the passphrase',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('Wrong passphrase');
    expect(wrong.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');
    expect(wrong.stdout).toBe('');
  });

  it('leaves no private key in clear under the data directory', async () => {
    const entries = await readdir(dataDir, { withFileTypes: true, recursive: true });
    for (const entry of entries.filter((e) => e.isFile())) {
      const content = await readFile(join(entry.parentPath, entry.name), 'latin1');
      expect(content, entry.name).not.toContain('PRIVATE KEY');
    }
  });
});
