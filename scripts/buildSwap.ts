/**
 * Builds a bundle beside the folder it replaces and swaps it in, so a program loading that
 * folder meanwhile (a supervisor's `npm run station -- queue stats` while the line runs, a
 * window whose preload is read at each page load) never meets a half-written one: between the
 * two renames there is briefly no folder at all, which a reader meets as "not found" and not as
 * a bundle cut short.
 */
import { rename, rm } from 'node:fs/promises';

/**
 * Builds into `<dist>.next-<pid>` and swaps it in for `dist`, which stays a sibling so the
 * bundle's relative paths (two folders deep under the repository) hold in both places.
 * `between` runs after the old build moved aside: tests use it to swap another build in there.
 */
export async function buildAsideThenSwap(
  dist: string,
  build: (outDir: string) => Promise<void>,
  between: () => Promise<void> = async () => undefined,
): Promise<void> {
  const next = `${dist}.next-${process.pid}`;
  const old = `${dist}.old-${process.pid}`;
  try {
    await build(next);
    await rename(dist, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await between();
    await rename(next, dist).catch((err: NodeJS.ErrnoException) => {
      // Another build swapped its own in between the two renames: it is as new as this one.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(next, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
