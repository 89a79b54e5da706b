/**
 * What a build run before the station starts (`npm start`'s prestart, `npm run station`, the
 * window's build) says when it fails: one sentence with a stable code, never a stack from tsx.
 * The common causes are the operator's to fix (an install folder this user may not write, a full
 * disk); anything else is named by the first line of its error.
 */

/** The codes a build failure is reported with. */
export type BuildFailureCode = 'BUILD_FOLDER_NOT_WRITABLE' | 'BUILD_DISK_FULL' | 'BUILD_FAILED';

/** The code and sentence for `err`, thrown while building `what` into `dist`. */
export function buildFailure(
  what: string,
  dist: string,
  err: unknown,
): { code: BuildFailureCode; text: string } {
  const { code, path, message } = (err ?? {}) as NodeJS.ErrnoException;
  const where = typeof path === 'string' ? path : dist;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return {
      code: 'BUILD_FOLDER_NOT_WRITABLE',
      text: `cannot build the ${what} into ${dist}: this user may not write ${where} (${code}); run as the user who owns the install folder, or make it writable`,
    };
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return {
      code: 'BUILD_DISK_FULL',
      text: `cannot build the ${what} into ${dist}: the disk is full (${code} writing ${where}); free some space and start again`,
    };
  }
  const first = (typeof message === 'string' ? message : String(err)).split('\n')[0]?.trim();
  return {
    code: 'BUILD_FAILED',
    text: `building the ${what} into ${dist} failed: ${first || 'no reason given'}${code ? ` (${code})` : ''}`,
  };
}

/**
 * Runs a build script's `ensure` and reports as the scripts do: `report` on success, one coded
 * line on stderr and exit code 1 on failure. Returns the exit code.
 */
export async function runBuild(
  label: string,
  what: string,
  dist: string,
  ensure: () => Promise<boolean>,
  report: (built: boolean) => void,
): Promise<number> {
  try {
    report(await ensure());
    return 0;
  } catch (err) {
    const failure = buildFailure(what, dist, err);
    console.error(`${label}: ${failure.text} [${failure.code}]`);
    return 1;
  }
}
