/**
 * Vitest global setup: the test run gets a temporary folder of its own, removed when the run
 * ends. Suites make folders for data dirs, CAs, sticks and OpenSSL files, and the stations,
 * simulators and tools they start make more; a suite that fails, or a child killed on purpose,
 * does not clean up after itself. Under one folder for the whole run, nothing outlives it on a
 * developer's machine, however a suite ends.
 *
 * os.tmpdir() reads TMPDIR at each call, and the workers and every process they start inherit
 * the environment set here.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  // Short: Unix socket paths made under it must stay within 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'lst-'));
  // As /tmp is: suites run children as another user (nobody, for file-mode checks) who must
  // reach, and may write, the folders under it.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
