/**
 * Finds the Electron runtime without downloading it. `require('electron')` would do: when the
 * binary is missing, the package's index.js starts a download from the network and throws after
 * it fails, so this reads the package's own record of its binary (path.txt) instead and checks
 * that the file exists and runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronRuntime =
  | { available: true; binary: string; version: string }
  | {
      available: false;
      /** A clause for the operator: "the Electron runtime is not installed on this machine (…)". */
      reason: string;
    };

export interface LocateOptions {
  /** Where to resolve the `electron` package from (default: this file). */
  from?: string;
  env?: NodeJS.ProcessEnv;
  /** How long `electron --version` may take. */
  timeoutMs?: number;
}

const notInstalled = (why: string): ElectronRuntime => ({
  available: false,
  reason: `the Electron runtime is not installed on this machine (${why})`,
});

/** The runtime if it is installed and runs, else why not. Never touches the network. */
export async function locateElectron(options: LocateOptions = {}): Promise<ElectronRuntime> {
  const env = options.env ?? process.env;
  let packageDir: string;
  try {
    const require = createRequire(options.from ?? import.meta.url);
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return notInstalled('the electron package is missing from node_modules');
  }
  const pathFile = join(packageDir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!override && !executable) {
    return notInstalled(`${join(packageDir, 'dist')} was never downloaded`);
  }
  // The same rule as the electron package's index.js, without its download fallback.
  const binary = override
    ? join(override, executable ?? 'electron')
    : join(packageDir, 'dist', executable as string);
  if (!existsSync(binary)) return notInstalled(`${binary} does not exist`);

  return new Promise((resolve) => {
    execFile(
      binary,
      ['--version'],
      { timeout: options.timeoutMs ?? 10_000, env: { ...env, ELECTRON_RUN_AS_NODE: undefined } },
      (error, stdout) => {
        const version = stdout.trim();
        if (error || !/^v\d+\./.test(version)) {
          resolve({
            available: false,
            reason: `the Electron runtime at ${binary} does not run here (${error?.message.split('\n')[0] ?? `it printed "${version.slice(0, 80)}"`})`,
          });
        } else resolve({ available: true, binary, version });
      },
    );
  });
}

/** Why a window cannot open on this machine even with Electron, or undefined. */
export function missingDisplay(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return undefined;
  return 'there is no display to open a window on (DISPLAY and WAYLAND_DISPLAY are not set)';
}
