/**
 * Whether the Electron runtime can load the repository's native modules. `npm ci` builds
 * better-sqlite3 for the Node that ran npm; Electron embeds a Node with another ABI, so under
 * `npm start` the core (a utilityProcess inside Electron) would fail its first database open and
 * the window would only say "Line Station cannot start". Asking Electron once, as plain Node,
 * lets `station start` run headless with a sentence the operator can act on instead.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

export interface NativeModulesOptions {
  /** Where to resolve `better-sqlite3` from (default: this file, so the cwd does not matter). */
  from?: string;
  env?: NodeJS.ProcessEnv;
  /** How long the runtime may take to start and open its in-memory database. */
  timeoutMs?: number;
}

/** Prefixes the one line the probe prints, so Electron's own output cannot be mistaken for it. */
const MARKER = 'line-station-native-check ';

/** What the probe reports from inside the runtime. */
interface ProbeReport {
  modules?: string;
  error?: { code?: string; message?: string };
}

/** The script the runtime evaluates: load the addon the way the core does, then report. */
function probeScript(modulePath: string): string {
  return [
    `const r={modules:process.versions.modules};`,
    `try{const D=require(${JSON.stringify(modulePath)});new D(':memory:').close()}`,
    `catch(e){r.error={code:e&&e.code,message:String(e&&e.message)}}`,
    `process.stdout.write('\\n'+${JSON.stringify(MARKER)}+JSON.stringify(r)+'\\n')`,
  ].join('');
}

function parseReport(stdout: string): ProbeReport | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line.slice(MARKER.length)) as ProbeReport;
  } catch {
    return undefined;
  }
}

/** The line of a crash's output that names the error: Node prints the source line and a caret first. */
function errorLine(output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.trim());
  const line = lines.find((l) => /^\w*Error\b|ERR_[A-Z_]+/.test(l)) ?? lines.find((l) => l !== '');
  return line === undefined ? undefined : clip(line);
}

const clip = (text: string): string => (text.length > 200 ? `${text.slice(0, 199)}…` : text);

/**
 * In parentheses, so the clause still reads as one sentence when the caller adds "so …". The
 * packaged app comes first: `npm run make` rebuilds the addons for Electron in the package's own
 * copy of node_modules (forge.config.js), while electron-rebuild rebuilds the repository's copy,
 * which then no longer loads under Node (electron/README.md): the hint says so, and how to undo it.
 */
const REBUILD_HINT =
  '(for the window, install the packaged app: `npm run make` builds it with its own copy of the modules; ' +
  '`npx electron-rebuild -f -o better-sqlite3` would give the window here, but rebuilds node_modules for Electron, ' +
  'so the Node tests and every headless `npm run station` command fail until `npm rebuild better-sqlite3` undoes it)';

/** The clause for a load that failed with `firstLine`; `text` is all the error said. */
function loadFailure(
  electron: string,
  firstLine: string,
  text: string,
  electronAbi: string | undefined,
): string {
  const abi = /NODE_MODULE_VERSION (\d+)\.[\s\S]*?requires\s+NODE_MODULE_VERSION (\d+)/.exec(text);
  if (abi) {
    const [, builtFor = '', runtimeAbi = ''] = abi;
    const node = builtFor === process.versions.modules ? `Node ${process.version}` : 'Node';
    return (
      `the native modules in node_modules are built for ${node} (ABI ${builtFor}), not for ` +
      `Electron ${electron} (ABI ${electronAbi ?? runtimeAbi}), and loading better-sqlite3 ` +
      `there fails with "${firstLine}" ${REBUILD_HINT}`
    );
  }
  const hint = /ERR_DLOPEN_FAILED/.test(text) ? ` ${REBUILD_HINT}` : '';
  return `better-sqlite3 from node_modules does not load in Electron ${electron} ("${firstLine}")${hint}`;
}

/**
 * Runs `binary` once as Node (ELECTRON_RUN_AS_NODE=1) to load better-sqlite3 and open an
 * in-memory database. Resolves with undefined when that works, else with a clause for the
 * operator ("the native modules in node_modules are built for … (for the window, run …)") that
 * keeps the first line of the error and never the stack. Never rejects.
 */
export async function nativeModulesFailure(
  runtime: { binary: string; version: string },
  options: NativeModulesOptions = {},
): Promise<string | undefined> {
  const electron = runtime.version.replace(/^v/, '');
  let modulePath: string;
  try {
    modulePath = createRequire(options.from ?? import.meta.url).resolve('better-sqlite3');
  } catch {
    return 'better-sqlite3 is missing from node_modules (run `npm ci`)';
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  const env = { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
  return new Promise((resolve) => {
    execFile(
      runtime.binary,
      ['-e', probeScript(modulePath)],
      { timeout: timeoutMs, env, windowsHide: true },
      (error, stdout, stderr) => {
        const report = parseReport(stdout);
        if (report && !report.error) return resolve(undefined);
        if (report?.error) {
          const { code, message = '' } = report.error;
          const first = clip(`${code ? `${code}: ` : ''}${message.split('\n')[0] ?? ''}`);
          return resolve(loadFailure(electron, first, `${code ?? ''} ${message}`, report.modules));
        }
        if (error?.killed) {
          return resolve(
            `the Electron runtime at ${runtime.binary} did not finish loading better-sqlite3 within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${timeoutMs / 1000} s`}`,
          );
        }
        if (typeof error?.code === 'string') {
          // The binary did not start at all (EACCES, ENOENT…): its message names the cause.
          return resolve(
            `the Electron runtime at ${runtime.binary} could not be started to check its native modules (${clip(error.message.split('\n')[0] ?? '')})`,
          );
        }
        // No report: the runtime crashed; its stderr is all there is (never the command line,
        // which holds the whole probe script).
        const first = errorLine(stderr);
        if (first === undefined) {
          return resolve(
            `the Electron runtime at ${runtime.binary} exited (code ${error?.code ?? 0}) without saying whether better-sqlite3 loads`,
          );
        }
        resolve(loadFailure(electron, first, stderr, undefined));
      },
    );
  });
}
