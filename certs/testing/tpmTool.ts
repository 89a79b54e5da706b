import { execFile, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** Running swtpm's and tpm2-tools' commands for the software TPM harness. Test material only. */

const run = promisify(execFile);
const STEP_TIMEOUT_MS = 60_000;

/** The absolute path of `command` on PATH, or undefined. */
export function commandPath(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Runs one tool, bounded in time; resolves its standard output. */
export async function step(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv },
  logFile?: string,
): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      ...options,
      timeout: STEP_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    const log = logFile ? await readFile(logFile, 'utf8').catch(() => '') : '';
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr ?? e.message}\n${log}`, {
      cause: err,
    });
  }
}
