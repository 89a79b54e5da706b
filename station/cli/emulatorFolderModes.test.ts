import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emulatorCommand } from './emulatorCommand.js';

const dir = await mkdtemp(join(tmpdir(), 'ls-emulator-modes-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const folder = join(dir, 'dps-emulator');
const FILES = ['emulator.sqlite', 'emulator.sqlite-wal', 'emulator.sqlite-shm', 'emulator-ca.pem'];

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/**
 * Runs `station emulator` on the file store until it has printed, and returns the modes of its
 * folder and files while it runs (the WAL and its index exist only then).
 */
async function modesWhileRunning(): Promise<Record<string, number>> {
  let seen!: Promise<Record<string, number>>;
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const print = (line: string): void => {
    if (!line.startsWith('Press Ctrl-C')) return;
    seen = (async () => {
      const modes: Record<string, number> = { folder: await modeOf(folder) };
      for (const file of FILES) modes[file] = await modeOf(join(folder, file));
      return modes;
    })();
    void seen.finally(stop);
  };
  expect(await emulatorCommand(['--data-dir', dir], { print, until })).toBe(0);
  return seen;
}

describe('station emulator keeps its key and TLS material for its user alone', () => {
  it('makes its folder 0700 and its files 0600, and narrows those an older version left open', async () => {
    const owner = { folder: 0o700, ...Object.fromEntries(FILES.map((file) => [file, 0o600])) };
    expect(await modesWhileRunning()).toEqual(owner);
    // What an earlier version made: 0755 and 0644, as the umask gave them.
    await chmod(folder, 0o755);
    for (const file of ['emulator.sqlite', 'emulator-ca.pem']) {
      await chmod(join(folder, file), 0o644);
    }
    expect(await modesWhileRunning()).toEqual(owner);
  }, 60_000);
});
