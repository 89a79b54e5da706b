import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

let tempCounter = 0;

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the old file or the
 * new one, never a torn mix: write a temporary file beside it, fsync it, rename it over the old
 * one, then fsync the directory so the rename itself is durable. This is how the simulated
 * device gets the "old or new, never a mix" guarantee PROTOCOL.md asks of COMMIT.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  try {
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}
