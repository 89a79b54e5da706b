import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
});
