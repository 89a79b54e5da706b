import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { socatOnPath } from './ptyPair.js';
import { Simulator } from './simulator.js';

/** Live (not zombie) child processes of this test process, from /proc. */
async function liveChildren(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(join('/proc', entry, 'stat'), 'utf8').catch(() => '');
    // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

describe.runIf(process.platform === 'linux' && socatOnPath())('Simulator.start', () => {
  it('leaves no socat or tty behind when one device of the bench fails to start', async () => {
    // A socat that works for the first pty pair, slowly, and fails at once for every other one:
    // the failure is known while the first device is still plugging in.
    const realSocat = execFileSync('/bin/sh', ['-c', 'command -v socat'], { encoding: 'utf8' });
    const bin = await mkdtemp(join(tmpdir(), 'ls-fake-socat-'));
    await writeFile(
      join(bin, 'socat'),
      [
        '#!/bin/sh',
        `case "$1" in -V) exec ${realSocat.trim()} "$@";; esac`,
        `if mkdir ${join(bin, 'first')} 2>/dev/null; then sleep 0.3; exec ${realSocat.trim()} "$@"; fi`,
        'echo "socat: no more ptys" >&2; exit 1',
      ].join('\n'),
    );
    await chmod(join(bin, 'socat'), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;

    await expect(Simulator.start({ devices: 2, link: 'pty', baudRate: 0 })).rejects.toThrow(
      /socat exited/,
    );
    // Every socat (and its watchdog shell) is gone by the time start() gives up.
    expect(await liveChildren()).toEqual([]);
  });
});
