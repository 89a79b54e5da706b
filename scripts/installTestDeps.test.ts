/**
 * scripts/install-test-deps.sh on machines that cannot install: `npm start` (--runtime-only)
 * warns and goes on, since a saved real line needs no socat (and nothing needs openssl but the
 * tests), while `npm test`
 * (the full mode) still stops. The script runs with a PATH of stub commands only, so nothing is
 * installed for real and the machine's own socat, apt-get and sudo are out of reach.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(process.cwd(), 'scripts', 'install-test-deps.sh');

/** A bin folder holding only `env` (the script runs apt-get through it) and the given stubs. */
function binWith(stubs: Record<string, string>): string {
  const bin = mkdtempSync(join(tmpdir(), 'install-deps-'));
  symlinkSync('/usr/bin/env', join(bin, 'env'));
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/** Records each call in the bin folder's calls.log, as apt-get or sudo would be seen to run. */
const logged = (name: string, then: string): string =>
  `echo "${name} $*" >> "\${0%/*}/calls.log"\n${then}`;

function run(bin: string, ...args: string[]) {
  const result = spawnSync('/bin/bash', [SCRIPT, ...args], {
    env: { PATH: bin, HOME: bin },
    encoding: 'utf8',
  });
  const log = join(bin, 'calls.log');
  return { ...result, calls: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

const notRoot = { id: 'echo 1000' };

describe('install-test-deps.sh --runtime-only (npm start)', () => {
  it('warns that the DEMO needs socat and exits 0 when there is no apt-get', () => {
    const bin = binWith(notRoot);
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('no apt-get on this system');
    expect(result.stderr).toMatch(/warning: socat not installed; the start goes on/);
    expect(result.stderr).toMatch(/the DEMO line needs socat .* will not start without it/);
  });

  it('warns and exits 0 when not root and sudo is unavailable, never running apt-get', () => {
    const bin = binWith({ ...notRoot, 'apt-get': logged('apt-get', 'exit 0') });
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('not root and sudo is unavailable');
    expect(result.stderr).toContain('the DEMO line needs socat');
    expect(result.calls).toBe('');
  });

  it('warns and exits 0 when sudo refuses (no password, no terminal)', () => {
    const bin = binWith({ ...notRoot, 'apt-get': 'exit 0', sudo: logged('sudo', 'exit 1') });
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('sudo apt-get update failed');
    expect(result.stderr).toContain('the DEMO line needs socat');
    // One try, not an install after a failed update.
    expect(result.calls.trim().split('\n')).toHaveLength(1);
  });

  it('warns and exits 0 when apt-get install fails, naming what is still missing', () => {
    const bin = binWith({
      id: 'echo 0',
      'apt-get': logged('apt-get', '[ "$1" = update ] || exit 100'),
    });
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('apt-get install failed');
    expect(result.stderr).toContain('warning: socat not installed');
    expect(result.calls).toBe('apt-get update\napt-get install -y --no-install-recommends socat\n');
  });

  it('still installs what is missing when it can, with apt-get update once', () => {
    const install = `[ "$1" = install ] && for p in socat; do
      printf '#!/bin/sh\\n' > "\${0%/*}/$p"; /bin/chmod +x "\${0%/*}/$p"; done; exit 0`;
    const bin = binWith({
      ...notRoot,
      sudo: logged('sudo', 'exec "$@"'),
      'apt-get': logged('apt-get', install),
    });
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`installed socat at ${join(bin, 'socat')}`);
    expect(result.stderr).toBe('');
    expect(result.calls.match(/^apt-get update$/gm)).toHaveLength(1);
    // openssl is the tests' alone: the start neither needs nor installs it.
    expect(result.calls).toContain('apt-get install -y --no-install-recommends socat\n');
  });

  it('does nothing when the tools are present', () => {
    const bin = binWith({ socat: 'exit 0', 'apt-get': logged('apt-get', '') });
    const result = run(bin, '--runtime-only');
    expect(result.status).toBe(0);
    expect(result.calls).toBe('');
  });
});

describe('install-test-deps.sh (npm test)', () => {
  it('stays strict: no apt-get, no sudo or a failed install fail the run without a warning', () => {
    const cases = [
      binWith(notRoot),
      binWith({ ...notRoot, 'apt-get': 'exit 0' }),
      binWith({ id: 'echo 0', 'apt-get': '[ "$1" = update ] || exit 100' }),
    ];
    for (const bin of cases) {
      const result = run(bin);
      expect(result.status).not.toBe(0);
      expect(result.stderr).not.toContain('the start goes on');
    }
  });
});
