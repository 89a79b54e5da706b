import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The station's sources through tsx, as the tests run them. */
const FROM_SOURCES = ['--import', 'tsx', join(process.cwd(), 'station', 'cli.ts')];

/** `station serve --demo` running as its own process, as an operator starts it. */
export interface ServedDemo {
  /** The page URL with its session token, as the station printed it. */
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Ends the process whatever state it is in. */
  kill(): void;
  /** Sends a signal to the station process (SIGSTOP freezes it as a hang would, SIGCONT thaws). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Starts `station serve --demo --port 0` under Node itself (not a wrapper, so signals reach the
 * station) and resolves once it printed its URL; rejects if it exits first. `station`: Node's
 * arguments up to the command (default: the sources through tsx; a built cli.js for the bundle).
 * `flags`: more of serve's flags (`--manual`).
 */
export async function serveDemo(
  station: readonly string[] = FROM_SOURCES,
  flags: readonly string[] = [],
): Promise<ServedDemo> {
  const child = spawn(process.execPath, [...station, 'serve', '--demo', '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) in a browser/.exec(output);
        if (found?.[1]) resolve(found[1]);
      });
      void exited.then(() => reject(new Error(`station serve exited early:\n${output}`)));
    });
    return {
      url,
      output: () => output,
      stop: async () => {
        child.kill('SIGINT');
        return exited;
      },
      kill: () => child.kill('SIGKILL'),
      signal: (signal) => child.kill(signal),
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
