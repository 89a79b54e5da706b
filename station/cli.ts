/**
 * `station` command line: the station with its UI (`start`, which `npm start` runs, and
 * `serve`), one device headless (`provision`), simulated devices, the DEMO line in the terminal,
 * port listing, the CA, the enrollment queue, outbox bundles for a line without DPS, and the run
 * history.
 */
import { CA_USAGE, ca } from './cli/caCommand.js';
import { DEMO_USAGE, demo } from './cli/demoCommand.js';
import { EMULATOR_USAGE, emulatorCommand } from './cli/emulatorCommand.js';
import { KEYS_USAGE, keys } from './cli/keysCommand.js';
import { LINE_USAGE, line } from './cli/lineCommand.js';
import { PORTS_USAGE, ports } from './cli/portsCommand.js';
import { PROFILES_USAGE, profiles } from './cli/profilesCommand.js';
import { PROVISION_USAGE, provision } from './cli/provisionCommand.js';
import { QUEUE_USAGE, queue } from './cli/queueCommand.js';
import { RUNS_USAGE, runs } from './cli/runsCommand.js';
import { AUDIT_USAGE, audit } from './cli/auditCommand.js';
import { SERVE_USAGE, serve } from './cli/serveCommand.js';
import { START_USAGE, start } from './cli/startCommand.js';
import { SYNC_USAGE, syncCommand } from './cli/syncCommand.js';
import { BUNDLE_USAGE, bundleCommand } from './cli/bundleCommand.js';
import { simulateCommand } from '../firmware-bridge/simulator/simulateCommand.js';
import { dpsClientFor } from './production/dpsConnection.js';
import { reportCliError } from './cli/cliError.js';
import { enterInvocationFolder } from './cli/invocationFolder.js';
import { takeAllSecretEnv } from './cli/secretEnv.js';

const commands: Record<string, (args: string[]) => Promise<number>> = {
  start,
  serve,
  provision,
  line,
  simulate: (args) => simulateCommand(args, 'station simulate'),
  demo,
  ports,
  ca,
  keys,
  queue,
  runs: (args) => runs(args),
  audit,
  sync: syncCommand(dpsClientFor),
  bundle: bundleCommand(dpsClientFor),
  emulator: (args) => emulatorCommand(args),
  profiles,
};

/**
 * Each command's options, in the order the full page lists them. `station serve --help` shows
 * only serve's: parseArgs would refuse --help as an unknown option, and a supervisor reaches for
 * it before the full page. `simulate` answers --help itself.
 */
const usages: readonly (readonly [command: string, usage: string])[] = [
  ['start', START_USAGE],
  ['serve', SERVE_USAGE],
  ['provision', PROVISION_USAGE],
  ['line', LINE_USAGE],
  [
    'simulate',
    '  simulate   Serve simulated devices on ttys (or TCP) for a line to provision; --help for options',
  ],
  ['demo', DEMO_USAGE],
  ['ports', PORTS_USAGE],
  ['ca', CA_USAGE],
  ['keys', KEYS_USAGE],
  ['queue', QUEUE_USAGE],
  ['runs', RUNS_USAGE],
  ['audit', AUDIT_USAGE],
  ['sync', SYNC_USAGE],
  ['bundle', BUNDLE_USAGE],
  ['profiles', PROFILES_USAGE],
  ['emulator', EMULATOR_USAGE],
];

const USAGE = `usage: station <command> [options]\n\n${usages.map(([, usage]) => usage).join('\n\n')}`;
const commandUsage = new Map(usages.filter(([command]) => command !== 'simulate'));

// `npm run station -- …` runs in the install folder: relative paths are the typed-in folder's.
enterInvocationFolder();
// Before any command starts a child (socat, the Electron probes): none inherits a secret.
takeAllSecretEnv();
const [command = 'demo', ...rest] = process.argv.slice(2);
let exitCode: number;
try {
  const run = commands[command];
  const usage = commandUsage.get(command);
  if (usage !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(`usage: station ${command} …\n\n${usage}`);
    exitCode = 0;
  } else if (run) exitCode = await run(rest);
  else if (command === '--help' || command === 'help') {
    console.log(USAGE);
    exitCode = 0;
  } else {
    console.error(`station: unknown command "${command}"\n${USAGE}`);
    exitCode = 2;
  }
} catch (err) {
  // A misspelt or malformed option is a usage error (2), never 1: `provision` promises scripts
  // that 1 means the device failed.
  exitCode = reportCliError(err);
}
// Written to a pipe (`queue export | gzip`, `runs --json | jq`), standard output is sent a chunk
// at a time; exiting at once would cut an export off after 64 KiB, with "Wrote N" already said.
await Promise.all([process.stdout, process.stderr].map(flushed));
process.exit(exitCode);

/** Resolves once everything written to `stream` so far has gone, or it failed (a closed pipe). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
