import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The CA on disk. Everything lives in one directory (`<dataDir>/ca/`), readable by the station's
 * user only:
 *
 * - `ca.json`: certificates and metadata, no secrets (CaRecord). Its presence means "initialised",
 *   so it is always written last.
 * - `issuing-key.sealed.json`: the issuing CA's PKCS#8 key, sealed (custody/secretBox.ts).
 * - `root-key.sealed.json`: station-root mode only; the root key, sealed and never loaded in
 *   normal operation (it signs nothing until the issuing CA is renewed).
 */
export const CA_FILES = {
  record: 'ca.json',
  issuingKey: 'issuing-key.sealed.json',
  rootKey: 'root-key.sealed.json',
} as const;

export const CA_DIR_MODE = 0o700;
export const CA_FILE_MODE = 0o600;

/** Creates the CA directory (and parents) and narrows its mode to 0o700 if it already existed. */
export async function prepareCaDir(caDir: string): Promise<void> {
  await mkdir(caDir, { recursive: true, mode: CA_DIR_MODE });
  if (process.platform !== 'win32') await chmod(caDir, CA_DIR_MODE);
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one: temp file in
 * the same directory (mode 0o600 from the start, never wider), fsync, rename, fsync of the
 * directory so the rename itself survives a power cut. With `exclusive`, the final step is a hard
 * link instead of a rename, which fails with EEXIST rather than replace an existing file; that is
 * what makes "initialise only once" hold even against a concurrent writer.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', CA_FILE_MODE);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's text, or undefined if it does not exist. */
export async function readTextIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
