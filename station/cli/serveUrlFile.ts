/**
 * Where a real line's UI address, with its session token, is kept when the station's output is
 * no terminal. Under systemd (docs/real-line.md) standard output goes to journald, which keeps it
 * on disk in /var/log/journal for any reader of the journal: the token must not be printed there.
 * The full address goes instead to a file of the data folder only this user can read, for the
 * station's lifetime.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../certs/ca/caFiles.js';

/** The file, in the data folder of the line being served. */
export function serveUrlFile(dataDir: string): string {
  return join(dataDir, 'serve-url');
}

/**
 * `url` with its session token replaced by "…" (as the docs write it): what may be printed to a
 * log, and still says that the address to open carries a token.
 */
export function urlWithoutToken(url: string): string {
  const page = new URL(url);
  page.search = '';
  return `${page.toString()}?token=…`;
}

/**
 * Writes the full address, mode 0600 and renamed into place (writeFileAtomic, as the CA's
 * files), so a supervisor reading it never sees half of one.
 */
export async function writeServeUrl(file: string, url: string): Promise<void> {
  await writeFileAtomic(file, `${url}\n`);
}

/** Removes the file: the token in it opens nothing once the station is gone. */
export async function removeServeUrl(file: string): Promise<void> {
  await rm(file, { force: true });
}
