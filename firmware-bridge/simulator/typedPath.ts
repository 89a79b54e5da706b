import { isAbsolute, resolve } from 'node:path';

/**
 * A path given on the command line of this package's npm script `script`, as it was meant.
 * npm runs a script in the install folder whatever folder `npm run simulate -- --tpm-dir trial`
 * was typed in, and names that folder in INIT_CWD: a relative path is read from there. Run
 * directly (tsx, node), or as the child of another npm script (which inherits INIT_CWD but not
 * this script's name), a relative path is the working directory's.
 */
export function typedPath(path: string, script: string, env = process.env): string {
  const folder = env.INIT_CWD;
  const throughNpm = env.npm_lifecycle_event === script && folder !== undefined;
  return throughNpm && isAbsolute(folder) ? resolve(folder, path) : resolve(path);
}
