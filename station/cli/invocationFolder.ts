import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/**
 * The npm scripts that run this command line (package.json "station" and "start"). npm runs a
 * script in the install folder, whatever folder the supervisor typed `npm run station -- …` in,
 * and names that folder in INIT_CWD.
 */
const NPM_SCRIPTS: readonly string[] = ['station', 'start'];

export interface InvocationFolderDeps {
  chdir?: (folder: string) => void;
  isDirectory?: (folder: string) => boolean;
  /** Told why the folder could not be entered (the command then goes on where it is). */
  warn?: (line: string) => void;
}

/**
 * Run through npm (`npm run station -- …`, `npm start`), goes back to the folder the command was
 * typed in, so that a relative path the supervisor gives (`profiles validate profiles.json`,
 * `queue export --out enrollments.csv`, the default bundle name) is that folder's and not the
 * install folder's. Everything the station reads of its own (the built UI, the app folder, the
 * shipped trust store) it finds from its own files, never from the working directory.
 *
 * Only for this package's own scripts: npm's variables are inherited by every child of any npm
 * script (`npm test` spawning the CLI in a folder of its choosing), and there the working
 * directory is the one meant. Returns the folder entered, or undefined when it stayed.
 */
export function enterInvocationFolder(
  env: NodeJS.ProcessEnv = process.env,
  deps: InvocationFolderDeps = {},
): string | undefined {
  const folder = env.INIT_CWD;
  const event = env.npm_lifecycle_event;
  if (event === undefined || !NPM_SCRIPTS.includes(event)) return undefined;
  if (!env.npm_lifecycle_script?.includes('station/cli.js')) return undefined;
  if (folder === undefined || !isAbsolute(folder)) return undefined;
  const isDirectory = deps.isDirectory ?? isFolder;
  if (!isDirectory(folder)) return undefined;
  try {
    (deps.chdir ?? process.chdir)(folder);
    return folder;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    (deps.warn ?? console.error)(
      `station: cannot enter ${folder}, where the command was typed (${code}): relative paths are read from ${process.cwd()}`,
    );
    return undefined;
  }
}

function isFolder(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}
