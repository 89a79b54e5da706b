import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'cli-setup-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `station …` with nothing on standard input and no passphrase in the environment. */
function station(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LINE_STATION_DATA: dataDir };
  delete env['LINE_STATION_CA_PASSPHRASE'];
  const child = spawn(TSX, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const missing = join(dataDir, 'no-such-profiles.json');

describe('a line checks its setup before asking for the passphrase', () => {
  it('serve names the unreadable profiles file, not the passphrase nobody was asked for', async () => {
    const { code, stderr } = await station([
      'serve',
      '--profiles',
      missing,
      '--device',
      '/dev/ttyLS0',
    ]);
    expect(stderr).toContain(missing);
    expect(stderr).not.toContain('passphrase');
    expect(code).toBe(1);
  }, 20_000);

  it('provision exits 3 when the station cannot start: 1 would read as a failed device', async () => {
    const { code, stderr } = await station([
      'provision',
      '--profiles',
      missing,
      '--device',
      '/dev/ttyLS0',
    ]);
    expect(stderr).toContain(missing);
    expect(code).toBe(3);
  }, 20_000);
});
