import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { emulatorCommand } from './emulatorCommand.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-emulator-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Starts `station emulator` with the given flags, stops it once it has printed, returns its lines. */
async function emulatorOutput(args: string[]): Promise<string> {
  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const print = (line: string): void => {
    lines.push(line);
    if (line.startsWith('Press Ctrl-C')) stop();
  };
  expect(await emulatorCommand(['--memory', '--data-dir', dir, ...args], { print, until })).toBe(0);
  return lines.join('\n');
}

describe('station emulator', () => {
  // A supervisor pointing a real line at the emulator needs the CA file in LINE_STATION_DPS_CA;
  // without it every sync fails TLS and the line only says DPS is unreachable.
  it('says how to point a station line at it: profile, connection and trust', async () => {
    const out = await emulatorOutput([]);
    const caFile = join(dir, 'dps-emulator', 'emulator-ca.pem');
    expect(out).toContain(`LINE_STATION_DPS_CA=${caFile}`);
    expect(out).toMatch(/"globalEndpoint": "127\.0\.0\.1:\d+", "idScope": "0ne/);
    expect(out).toContain('station sync set-connection');
    expect(out).toContain('give --port N');
  }, 30_000);

  // The "dps" line it prints goes into a profile: a scope a profile refuses is refused here first.
  it('takes only an --id-scope a profile takes, and says why in the words of a profile', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    try {
      for (const scope of ['LINE7', '0NE0000AB12']) {
        // Stopped at once should it start after all: the refusal is what this asks for.
        const deps = { print: () => undefined, until: Promise.resolve() };
        const args = ['--memory', '--data-dir', dir, '--id-scope', scope];
        expect(await emulatorCommand(args, deps)).toBe(2);
      }
    } finally {
      vi.restoreAllMocks();
    }
    expect(errors).toEqual([
      'station emulator: --id-scope "LINE7" expected 0ne followed by 8 hex digits, such as 0ne00AB12CD (the DPS overview page shows it)',
      'station emulator: --id-scope "0NE0000AB12" expected "0ne" in lower case at the start: write "0ne0000AB12" (the hex digits may be in either case)',
    ]);
    expect(await emulatorOutput(['--id-scope', '0ne0000ab12'])).toContain(
      '"idScope": "0ne0000ab12"',
    );
  }, 30_000);

  // `--data-dir A --data B` (--data is its other name) silently kept A.
  it('refuses --data-dir and --data naming different folders, starting nothing', async () => {
    const print = vi.fn();
    const first = join(dir, 'first');
    const other = join(dir, 'other');
    await expect(
      emulatorCommand(['--data-dir', first, '--data', other], { print, until: Promise.resolve() }),
    ).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: `station emulator: --data-dir "${first}" and --data "${other}" name different folders (--data is another name of --data-dir): give one`,
    });
    expect(print).not.toHaveBeenCalled();
    expect(existsSync(join(first, 'dps-emulator'))).toBe(false);
    expect(existsSync(join(other, 'dps-emulator'))).toBe(false);
    // The same folder twice is no conflict.
    const out = await emulatorOutput(['--data', dir]);
    expect(out).toContain('connection string');
  }, 30_000);
});
