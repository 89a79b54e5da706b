import { parseStationArgs } from './stationArgs.js';
import { isLoopbackHost, isWildcardHost } from '../api/sessionAccess.js';
import type { StationFactory } from '../api/stationFactory.js';
import { startDemoStation } from '../demo/demoStation.js';
import { runHeadless } from './headlessStation.js';
import { LINE_OPTIONS_USAGE, lineParseOptions, lineSelection } from './lineOptions.js';
import { savedLinePath } from '../production/savedLine.js';
import { resolveDataDir } from './dataDir.js';
import { claimDataFolder } from './servingClaim.js';
import { serveUrlFile } from './serveUrlFile.js';
import {
  lineStation,
  readSavedLineToStart,
  refusalsLoggedIn,
  savedLineStation,
} from './lineStation.js';

export const SERVE_USAGE = `  serve   The headless station: its UI and API on http://127.0.0.1:PORT/?token=…
          --demo            run the DEMO line (simulated devices, DEMO CA, DEMO DPS settings)
          --host HOST       listen address (default 127.0.0.1; others are reachable from the network)
          --port PORT       port (default 0: any free port)
          --manual          start runs only when the operator asks (default: auto, every device)
          --locked          a real line asks for no CA passphrase at start: it waits, with no port
                            open, until a supervisor types it into the UI at this workstation
          or a real line:
${LINE_OPTIONS_USAGE}
          with none of these, the line saved with \`station line save\` (--manual still applies)`;

/** What `serve` and `start` may be given instead of the defaults (tests, the real line). */
export interface HeadlessDeps {
  createStation?: StationFactory;
  print?: (line: string) => void;
  until?: Promise<unknown>;
  /** Whether `print` reaches a terminal (default: stdout is a TTY); see HeadlessOptions. */
  terminal?: boolean;
}

export const headlessOptions = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '0' },
} as const;

/**
 * Why a line started `--locked` could never be unlocked on `host`, or undefined. The unlock form
 * works only from the workstation's loopback; a server on one other address has none.
 */
export function lockedHostProblem(host: string): string | undefined {
  if (isLoopbackHost(host) || isWildcardHost(host)) return undefined;
  return "--locked needs the UI on this workstation's loopback, where the line is unlocked: leave out --host (127.0.0.1), or give --host 0.0.0.0 to serve other screens as well";
}

/** The port flag as a number, or undefined when it is not one. */
export function parsePort(text: string): number | undefined {
  const port = Number(text);
  return /^\d+$/.test(text) && port <= 65_535 ? port : undefined;
}

/** `station serve`: the line headless, with its UI for any browser on this machine. */
export async function serve(args: string[], deps: HeadlessDeps = {}): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: {
      ...headlessOptions,
      ...lineParseOptions,
      demo: { type: 'boolean', default: false },
      manual: { type: 'boolean', default: false },
      locked: { type: 'boolean', default: false },
    },
  });
  const port = parsePort(values.port);
  if (port === undefined) {
    console.error('station serve: --port must be a whole number from 0 to 65535');
    return 2;
  }
  const lockedProblem = values.locked ? lockedHostProblem(values.host) : undefined;
  if (lockedProblem !== undefined) {
    console.error(`station serve: ${lockedProblem}`);
    return 2;
  }
  if (values.demo) {
    // The DEMO line has its own profile, CA and simulated ports: a real line's flags given with
    // --demo would be ignored, and the supervisor would believe the real line was running.
    const lineFlags = (
      ['profiles', 'product', 'device', 'discover', 'data-dir', 'locked'] as const
    ).filter((flag) => values[flag] !== undefined && values[flag] !== false);
    if (lineFlags.length > 0) {
      console.error(
        `station serve: --demo runs the DEMO line and takes no ${lineFlags.map((f) => `--${f}`).join(', ')}; ` +
          'leave out --demo to serve the real line.',
      );
      return 2;
    }
  }
  const mode = values.manual ? 'manual' : 'auto';
  let createStation: StationFactory | undefined =
    deps.createStation ??
    (values.demo ? (context) => startDemoStation({ log: context.log, mode }) : undefined);
  // A real line keeps why it did not start in its data folder's log; the DEMO has no folder.
  const realLine = createStation === undefined;
  const dataDir = resolveDataDir(values['data-dir']);
  const saved =
    realLine && values.profiles === undefined ? readSavedLineToStart(dataDir) : undefined;
  if (saved) {
    const lineFlags = (['product', 'device', 'discover', 'baud'] as const).filter(
      (flag) => values[flag] !== undefined && values[flag] !== false,
    );
    if (lineFlags.length > 0) {
      console.error(
        `station serve: ${lineFlags.map((f) => `--${f}`).join(', ')} needs --profiles; ` +
          `without it, serve runs the line saved in ${savedLinePath(dataDir)}.`,
      );
      return 2;
    }
  }
  if (realLine && !saved && values.profiles === undefined) {
    console.error(
      'station serve: give the line (--profiles FILE and --device PATH or --discover), ' +
        'save one with `station line save`, or run `station serve --demo` for the DEMO line.',
    );
    return 2;
  }
  const selection = realLine && !saved ? lineSelection(values) : undefined;
  if (typeof selection === 'string') {
    console.error(`station serve: ${selection}`);
    return 2;
  }
  // A real line claims its data folder before the passphrase is asked or any port opens: a
  // second line on it would fail on the ports the first holds and take over its record.
  const release = realLine ? claimDataFolder(dataDir) : () => undefined;
  try {
    if (saved) {
      createStation = await savedLineStation(
        dataDir,
        saved,
        values.manual ? 'manual' : saved.mode,
        { locked: values.locked },
      );
    } else if (selection !== undefined) {
      createStation = await lineStation(selection, mode, { locked: values.locked });
    }
    await runHeadless({
      createStation: createStation!,
      host: values.host,
      port,
      print: deps.print,
      until: deps.until,
      ...(realLine && { urlFile: serveUrlFile(dataDir) }),
      terminal: deps.terminal,
      ...(realLine && { onRefused: refusalsLoggedIn(dataDir) }),
      announce: (url) => `Line Station is serving its UI: open ${url} in a browser.`,
    });
    return 0;
  } finally {
    release();
  }
}
