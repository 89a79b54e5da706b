/**
 * `station …` as a real process, for the tests of what a supervisor meets at a start: its output
 * as it comes, its exit, its standard input left open. One process (Node with the tsx loader, not
 * the tsx binary, which runs the CLI in a child): its pid is the station's, as serving.json
 * records it, and a signal sent to it reaches the station itself.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(process.cwd(), 'station', 'cli.ts');

export interface StationProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once standard output or error matches, or rejects when the process ends first. */
  waitFor: (pattern: RegExp, stream?: 'stdout' | 'stderr') => Promise<RegExpExecArray>;
  /** The exit code (a signal's name when it was killed). */
  exited: Promise<number | string>;
  /** Sends SIGINT (Ctrl-C) and waits for the exit. */
  stop: () => Promise<number | string>;
}

/**
 * Starts `station args` with `env` over this process's environment (a value of undefined
 * removes the variable) and the CA passphrase variable removed unless given. Its standard input
 * is a pipe that stays open until the test writes or ends it.
 */
export function stationProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
): StationProcess {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  delete merged['LINE_STATION_CA_PASSPHRASE'];
  delete merged['CREDENTIALS_DIRECTORY'];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: merged,
    stdio: 'pipe',
  });
  const text = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].on('data', (chunk: Buffer) => {
      text[stream] += chunk.toString();
      for (const listener of listeners) listener();
    });
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waitFor = (pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = pattern.exec(stream ? text[stream] : `${text.stdout}\n${text.stderr}`);
        if (found) {
          listeners.delete(onData);
          resolve(found);
        }
        return found !== null;
      };
      const onData = (): void => void check();
      if (check()) return;
      listeners.add(onData);
      void exited.then(() => {
        if (check()) return;
        listeners.delete(onData);
        reject(
          new Error(
            `station ${args.join(' ')} ended without ${pattern}:\n${text.stdout}\n${text.stderr}`,
          ),
        );
      });
    });
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor,
    exited,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
