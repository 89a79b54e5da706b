/**
 * Stand-ins for the Electron binary, for the tests of `station start` and its native-module check.
 * Electron cannot run here, but with ELECTRON_RUN_AS_NODE=1 it is a Node, so a shell script that
 * runs this Node in its place loads the real better-sqlite3 the same way.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** What Electron prints when it dies on an addon built for Node 20 (Node's uncaught-error format). */
export const ABI_CRASH = `/app/node_modules/bindings/bindings.js:121
        throw e;
        ^

Error: The module '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'
was compiled against a different Node.js version using
NODE_MODULE_VERSION 115. This version of Node.js requires
NODE_MODULE_VERSION 140. Please try re-compiling or re-installing
the module (for instance, using \`npm rebuild\` or \`npm install\`).
    at process.func [as dlopen] (node:electron/js2c/node_init:2:2617)
    at Module._extensions..node (node:internal/modules/cjs/loader:1470:18)
    at bindings (/app/node_modules/bindings/bindings.js:112:48) {
  code: 'ERR_DLOPEN_FAILED'
}

Node.js v22.20.0
`;

export interface ElectronStandIns {
  /** The temporary folder the stand-ins live in (removed after the file's tests). */
  folder(): string;
  /** Writes an executable shell script named `name` and returns its path. */
  script(name: string, body: string): Promise<string>;
  /**
   * This Node, run with `flags`, when started as Node; otherwise it fails as a window would. It
   * changes directory first, so a probe must name modules by their absolute path.
   */
  asNode(flags?: string): Promise<string>;
  /** Prints ABI_CRASH to stderr and exits 1, as Electron does on an addon built for Node. */
  abiCrash(): Promise<string>;
}

/** Registers a temporary folder for the file's tests and returns the stand-in writers. */
export function useElectronStandIns(prefix: string): ElectronStandIns {
  let root: string | undefined;
  beforeAll(async () => (root = await mkdtemp(join(tmpdir(), prefix))));
  afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined));
  const folder = (): string => {
    if (!root) throw new Error('useElectronStandIns: only inside a test');
    return root;
  };
  const script = async (name: string, body: string): Promise<string> => {
    const path = join(folder(), name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  };
  return {
    folder,
    script,
    asNode: (flags = '') =>
      script(
        `as-node${flags.replace(/\W/g, '')}`,
        [
          '[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "Error: ELECTRON_RUN_AS_NODE is not 1" >&2; exit 1; }',
          `cd / && exec ${JSON.stringify(process.execPath)} ${flags} "$@"`,
        ].join('\n'),
      ),
    abiCrash: async () => {
      // Through a file: quoted into the script, a backtick or `$` would be run by the shell.
      const crash = join(folder(), 'abi-crash.txt');
      await writeFile(crash, ABI_CRASH);
      return script('abi-mismatch', `cat ${JSON.stringify(crash)} >&2\nexit 1`);
    },
  };
}
