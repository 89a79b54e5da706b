/**
 * A secret given in the environment stayed in process.env after it was read, so it sat in
 * /proc/<pid>/environ of the station and of every child it started (the Electron window, its
 * core, the build scripts) for their lifetime. The real readPassphrase and the real builder of a
 * child's environment; a real child process reads what it was given.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PASSPHRASE_ENV, readPassphrase } from './passphrase.js';
import { BUNDLE_PASSPHRASE_ENV } from './bundleCli.js';
import {
  childEnvironment,
  SECRET_ENV_NAMES,
  secretFromEnv,
  takeAllSecretEnv,
  takeSecretEnv,
} from './secretEnv.js';

afterEach(() => vi.unstubAllEnvs());

/** A secret of at least the minimum length, distinct per variable. */
const secretOf = (name: string): string => `the secret of ${name}`;

describe('a secret read from its environment variable', () => {
  it.each(SECRET_ENV_NAMES)('%s is gone from process.env once read', async (name) => {
    vi.stubEnv(name, secretOf(name));
    expect(await readPassphrase('Secret: ', { env: name })).toBe(secretOf(name));
    expect(process.env[name]).toBeUndefined();
    // Where it came from is still known (the wrong-passphrase hint, the sync's source line).
    expect(secretFromEnv(name)).toBe(true);
    // A second read in the same process (check, then open the CA) gets it from memory.
    expect(await readPassphrase('Secret: ', { env: name })).toBe(secretOf(name));
  });

  it('lists the variables the commands read', () => {
    expect(SECRET_ENV_NAMES).toContain(PASSPHRASE_ENV);
    expect(SECRET_ENV_NAMES).toContain(BUNDLE_PASSPHRASE_ENV);
  });
});

describe('the environment the station builds for a child', () => {
  it('has none of the secret variables, even those never read, and keeps the rest', () => {
    for (const name of SECRET_ENV_NAMES) vi.stubEnv(name, secretOf(name));
    vi.stubEnv('LINE_STATION_DATA', '/var/lib/line-station');
    const env = childEnvironment({ LINE_STATION_DEMO: '1' });
    const seen = execFileSync(
      process.execPath,
      ['-e', 'process.stdout.write(JSON.stringify(process.env))'],
      { env },
    ).toString();
    const childEnv = JSON.parse(seen) as Record<string, string>;
    for (const name of SECRET_ENV_NAMES) expect(childEnv[name]).toBeUndefined();
    expect(seen).not.toContain('the secret of');
    expect(childEnv['LINE_STATION_DATA']).toBe('/var/lib/line-station');
    expect(childEnv['LINE_STATION_DEMO']).toBe('1');
  });
});

describe('the CLI taking every secret variable as it starts (takeAllSecretEnv)', () => {
  it('leaves none for a child started with the inherited environment; each is still found once', () => {
    for (const name of SECRET_ENV_NAMES) vi.stubEnv(name, secretOf(name));
    takeAllSecretEnv();
    // A child that inherits process.env as it stands (socat, the Electron probes).
    const seen = execFileSync(process.execPath, [
      '-e',
      'process.stdout.write(JSON.stringify(process.env))',
    ]).toString();
    expect(seen).not.toContain('the secret of');
    for (const name of SECRET_ENV_NAMES) expect(takeSecretEnv(name)).toBe(secretOf(name));
  });
});
