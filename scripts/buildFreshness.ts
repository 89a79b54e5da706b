/**
 * Whether a build is older than its sources, by modification time: the rule that lets
 * `npm start` and `npm test` rebuild the UI and the station only after a source changed.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The newest modification time of a file, or of any file under a folder, tests left out. */
async function newestMtime(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path)) {
    // Tests and their doubles sit beside the code but are never part of a build.
    if (entry.includes('.test.') || entry.includes('.test-double.')) continue;
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * True when `builtFile` is missing or older than any of `sources` (files or folders, relative
 * to `root`).
 */
export async function isStale(
  root: string,
  builtFile: string,
  sources: readonly string[],
): Promise<boolean> {
  let built: number;
  try {
    built = (await stat(builtFile)).mtimeMs;
  } catch {
    return true;
  }
  for (const source of sources) {
    if ((await newestMtime(join(root, source))) > built) return true;
  }
  return false;
}
