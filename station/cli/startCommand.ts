/**
 * `station start` (what `npm start` runs): the desktop window when this machine can show one,
 * otherwise the same station headless, with one plain sentence saying why and where its UI is.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStationArgs } from './stationArgs.js';
import { demoStationFactory } from '../api/stationFactory.js';
import { nativeModulesFailure } from './electronNativeModules.js';
import { locateElectron, missingDisplay, type ElectronRuntime } from './electronRuntime.js';
import { savedLinePath, type SavedLine } from '../production/savedLine.js';
import { DATA_DIR_ENV, resolveDataDir } from './dataDir.js';
import { DEMO_ENV } from '../production/desktopStation.js';
import { runHeadless } from './headlessStation.js';
import { LINE_NOT_SAVED, lineNotSavedText } from './lineNotSaved.js';
import { claimDataFolder } from './servingClaim.js';
import { removeServeUrl, serveUrlFile } from './serveUrlFile.js';
import { childEnvironment } from './secretEnv.js';
import { readSavedLineToStart, refusalsLoggedIn, savedLineStation } from './lineStation.js';
import {
  headlessOptions,
  lockedHostProblem,
  parsePort,
  type HeadlessDeps,
} from './serveCommand.js';

export const START_USAGE = `  start   Open Line Station (what \`npm start\` runs): the desktop window when the Electron
          runtime is installed, loads the native modules and there is a display, otherwise the
          headless station with its UI for a browser. Runs the line saved with \`station line
          save\`, else the DEMO line; a folder named by --data-dir or $LINE_STATION_DATA with no
          line saved is refused (STATION_LINE_NOT_SAVED), and so is a folder another station
          serves (STATION_ALREADY_SERVING). The window starts a saved line locked: a supervisor
          types the CA passphrase into it.
          --demo        the DEMO line even when a line is saved
          --locked      headless too, wait for the CA passphrase in the UI instead of asking here
          --headless    do not try the window
          --host HOST, --port PORT   as for serve (headless only)
          --data-dir DIR   where the saved line is (default $LINE_STATION_DATA or ~/.line-station)`;

/**
 * `createStation`, when given, is the DEMO line's factory (a test's double in its place): a saved
 * line, or its absence, decides what runs, never whether a factory was given.
 */
export interface StartDeps extends HeadlessDeps {
  locateElectron?: () => Promise<ElectronRuntime>;
  /** Runs the desktop app with these variables added, and resolves with its exit code. */
  launchElectron?: (binary: string, env: Record<string, string>) => Promise<number>;
}

/** The repository root: Electron starts the app whose package.json "main" is here. */
const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

export async function start(args: string[], deps: StartDeps = {}): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: {
      ...headlessOptions,
      headless: { type: 'boolean', default: false },
      demo: { type: 'boolean', default: false },
      locked: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const port = parsePort(values.port);
  if (port === undefined) {
    console.error('station start: --port must be a whole number from 0 to 65535');
    return 2;
  }
  const dataDir = resolveDataDir(values['data-dir']);
  const saved = values.demo ? undefined : readSavedLineToStart(dataDir);
  const refusal = flagsRefusal(values, dataDir, saved !== undefined);
  if (refusal !== undefined) {
    console.error(`station start: ${refusal}`);
    return 2;
  }
  // A saved line's folder is claimed before the passphrase is asked or any port opens; the DEMO
  // keeps nothing in it. Held until the window or the headless line ends.
  const release = saved ? claimDataFolder(dataDir) : () => undefined;
  try {
    return await startClaimed(values, dataDir, port, saved, deps);
  } finally {
    release();
  }
}

async function startClaimed(
  values: { headless: boolean; demo: boolean; locked: boolean; host: string },
  dataDir: string,
  port: number,
  saved: SavedLine | undefined,
  deps: StartDeps,
): Promise<number> {
  let why = 'you asked for --headless';
  if (!values.headless) {
    const runtime = await (deps.locateElectron ?? (() => locateElectron()))();
    // The native check runs Electron once, so only when a window could otherwise open.
    const noWindow = runtime.available
      ? (missingDisplay() ?? (await nativeModulesFailure(runtime)))
      : runtime.reason;
    if (noWindow === undefined && runtime.available) {
      // The window's core finds the same line: the saved one (locked until a supervisor
      // unlocks it in the window, which has no terminal to ask in), or the DEMO.
      // With no saved line it is told to run the DEMO: a window given only the folder refuses
      // a folder with no line, as this command does when the folder comes from the variable.
      const demo = values.demo || !saved;
      // A headless run killed earlier left its address, with a dead token, in the folder.
      if (saved) await removeServeUrl(serveUrlFile(dataDir));
      return (deps.launchElectron ?? launchElectron)(runtime.binary, {
        [DATA_DIR_ENV]: dataDir,
        ...(demo && { [DEMO_ENV]: '1' }),
      });
    }
    why = noWindow ?? why;
  }
  const reason = why.charAt(0).toUpperCase() + why.slice(1);
  // The DEMO says so: a workstation that should run its real line must not pass it off as that.
  const what = saved ? `the line saved in ${savedLinePath(dataDir)} ` : 'the DEMO line ';
  await runHeadless({
    createStation: saved
      ? await savedLineStation(dataDir, saved, saved.mode, {
          locked: values.locked,
          command: 'start',
        })
      : (deps.createStation ?? demoStationFactory),
    host: values.host,
    port,
    print: deps.print,
    until: deps.until,
    ...(saved && { urlFile: serveUrlFile(dataDir) }),
    terminal: deps.terminal,
    ...(saved && { onRefused: refusalsLoggedIn(dataDir) }),
    announce: (url) => `${reason}, so Line Station runs ${what}headless: open ${url} in a browser.`,
  });
  return 0;
}

/** Why these flags cannot start anything, or undefined. `saved`: a saved line will run. */
function flagsRefusal(
  values: { demo: boolean; locked: boolean; host: string; 'data-dir'?: string | undefined },
  dataDir: string,
  saved: boolean,
): string | undefined {
  if (values['data-dir'] !== undefined && !saved) {
    // The folder names the line to run; the DEMO in its place would pass for it.
    return values.demo
      ? '--demo runs the DEMO line and takes no --data-dir.'
      : `${lineNotSavedText(dataDir, 'flag')} [${LINE_NOT_SAVED}]`;
  }
  if (values.locked && !saved) {
    return values.demo
      ? '--demo runs the DEMO line and takes no --locked.'
      : '--locked applies to a saved line (`station line save`); the DEMO line has no passphrase.';
  }
  // So does LINE_STATION_DATA (a systemd unit's Environment=); --demo asks for the DEMO anyway.
  if (process.env[DATA_DIR_ENV] && !values.demo && !saved) {
    return `${lineNotSavedText(dataDir, 'env')} [${LINE_NOT_SAVED}]`;
  }
  return values.locked ? lockedHostProblem(values.host) : undefined;
}

/** Builds the shell and runs it until the window closes; Ctrl-C here closes it too. */
async function launchElectron(binary: string, env: Record<string, string>): Promise<number> {
  // Development only: a packaged app starts from its own binary, never through this command.
  for (const script of ['scripts/rendererBuild.ts', 'scripts/buildElectron.ts']) {
    const code = await runBuildScript(script);
    if (code !== 0) {
      console.error(`station start: ${script} failed (exit code ${code}); no window to open`);
      return 1;
    }
  }
  // No secret variable: the window types its passphrase, and a child's environ is readable.
  const child = spawn(binary, [APP_DIR], { stdio: 'inherit', env: childEnvironment(env) });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`station start: the Electron runtime failed to start: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}

/**
 * Runs one of the repository's build scripts in a child Node with tsx, from the app folder. A
 * child, not an import: the station itself may run bundled from dist/station, where the
 * scripts' own way of finding the repository (one folder up from their file) would miss it.
 */
function runBuildScript(script: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(APP_DIR, script)], {
    cwd: APP_DIR,
    stdio: 'inherit',
    env: childEnvironment(),
  });
  return new Promise((resolve) => {
    child.once('error', () => resolve(1));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
