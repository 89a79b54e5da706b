/**
 * Runs the real `station` command line (tsx station/cli.ts) in a child process, as a supervisor
 * types it, for the tests of what a command leaves in the data folder and the audit trail.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AuditEvent } from '../../station/store/auditLog.js';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `station ARGS` on the data folder `dataDir`, with `env` over this process's environment; never
 * throws for an exit code, which it returns with both outputs.
 */
export async function stationCli(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: { ...process.env, LINE_STATION_DATA: dataDir, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The audit trail as `station audit --json` prints it, newest first; of one kind if given. */
export async function auditTrail(dataDir: string, kind?: string): Promise<AuditEvent[]> {
  const args = ['audit', '--json', '--limit', '1000', ...(kind ? ['--kind', kind] : [])];
  const listed = await stationCli(dataDir, args);
  if (listed.code !== 0) throw new Error(`station audit exited ${listed.code}: ${listed.stderr}`);
  return JSON.parse(listed.stdout) as AuditEvent[];
}
