/**
 * A real disk that fills up (tests only): a small tmpfs mounted on a throw-away folder, and a
 * filler file that takes every block left on it, as a log or a download does on a workstation.
 * Mounting needs root (or CAP_SYS_ADMIN): `canMountSmallDisk` says whether this process may.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** The mounted folder. */
  dir: string;
  /** Takes every block left on the disk: the next write that needs one fails ENOSPC. */
  fill(): void;
  /** Gives the filler's blocks back. */
  free(): void;
  /** Unmounts the disk and removes its folder. */
  dispose(): Promise<void>;
}

/** Whether this process may mount a tmpfs (root on Linux). */
export const canMountSmallDisk = process.platform === 'linux' && process.getuid?.() === 0;

export async function smallDisk(sizeKiB = 8_192): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'line-station-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Big writes first, then ever smaller ones, until not a byte more fits.
        for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    async dispose() {
      execFileSync('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
