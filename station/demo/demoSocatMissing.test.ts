/**
 * `npm start` only warns when it cannot install socat (a saved real line needs none), so the
 * DEMO line must refuse in one coded sentence that names the fix, never with a stack. The
 * station runs with a PATH that holds no socat; node is reached by its full path.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPtyPair, SIM_SOCAT_MISSING } from '../../firmware-bridge/simulator/ptyPair.js';

const TSX = realpathSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'));
const CLI = join(process.cwd(), 'station', 'cli.ts');

/** A PATH on which socat (or anything else) cannot be found. */
const noSocat = (): string => mkdtempSync(join(tmpdir(), 'no-socat-'));

describe('the DEMO line without socat', () => {
  it('refuses a pty pair with SIM_SOCAT_MISSING and a sentence naming the install', async () => {
    const saved = process.env.PATH;
    process.env.PATH = noSocat();
    try {
      const refusal = await openPtyPair().then(
        () => undefined,
        (err: unknown) => err as { code?: unknown; message: string },
      );
      expect(refusal?.code).toBe(SIM_SOCAT_MISSING);
      expect(refusal?.message).toMatch(/socat is not installed, .*DEMO line/);
      expect(refusal?.message).toContain('sudo apt-get install socat');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('`station start --demo --headless` prints one coded line and exits 1', async () => {
    const env = { ...process.env, PATH: noSocat() };
    const args = [TSX, CLI, 'start', '--demo', '--headless', '--port', '0'];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(
      /^station: socat is not installed, .*and start again \[SIM_SOCAT_MISSING\]$/m,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(1);
  }, 60_000);
});
