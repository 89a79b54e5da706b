/**
 * The simulator in a child process (`tsx firmware-bridge/simulator/cli.ts --devices N --log`),
 * so that process.cpuUsage() and the event loop of the benchmark process belong to the station
 * alone. The CLI prints one table row per device (host path) and, with --log, one line per
 * request it answered with the device work time it applied, into a log file that is read only
 * when the bench asks for totals, so the instrument costs the station process nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTreeCpuMs } from './processTreeCpu.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface SimulatorProcess {
  /** Host paths in device order. */
  readonly hostPaths: readonly string[];
  /** Device work time the simulator reported, summed over every request so far. */
  deviceMs(): number;
  /** Requests the simulator answered so far. */
  requests(): number;
  /** CPU time of the simulator and its socat processes so far (Linux), else undefined. */
  cpuMs(): number | undefined;
  /** Stops the child (Ctrl-C) and resolves once it has exited and printed everything. */
  stop(): Promise<void>;
}

/** Starts `devices` simulated devices on ptys at `baudRate` with the default latencies. */
export async function startSimulatorProcess(
  devices: number,
  baudRate: number,
  /** More CLI options, e.g. `['--keygen-ms', '0']`. */
  extraArgs: readonly string[] = [],
): Promise<SimulatorProcess> {
  const args = ['--devices', String(devices), '--baud', String(baudRate), '--log', ...extraArgs];
  // The child writes its table and request lines to a file, not a pipe: a pipe would wake the
  // station's event loop once per request, and that instrument's cost would count as the
  // station's CPU. The file is read only when the bench asks for totals.
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-sim-'));
  const logFile = join(dir, 'simulator.log');
  const logFd = openSync(logFile, 'w+');
  const child = spawn(TSX, ['firmware-bridge/simulator/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));
  let alive = true;
  void exited.then(() => (alive = false));
  const log = new RequestLog(logFile);
  const hostPaths: string[] = [];
  try {
    // Bounded: the header is a few lines, printed once the ptys are up.
    for (let waited = 0; ; waited += HEADER_POLL_MS) {
      const head = readFileSync(logFile, 'utf8');
      const end = head.indexOf('Ctrl-C to stop\n');
      if (end !== -1) {
        for (const m of head.matchAll(/^\s*\d+\s+\S+\s+(\/\S+|tcp:\/\/\S+)\s+(?:pty|tcp)/gm)) {
          if (!hostPaths.includes(m[1]!)) hostPaths.push(m[1]!);
        }
        log.skip(Buffer.byteLength(head.slice(0, end + 'Ctrl-C to stop\n'.length)));
        break;
      }
      if (!alive) throw new Error(`simulator exited early: ${stderr.trim()}`);
      if (waited > HEADER_TIMEOUT_MS) throw new Error('simulator printed no port table in time');
      await new Promise((resolve) => setTimeout(resolve, HEADER_POLL_MS));
    }
    if (hostPaths.length !== devices) {
      throw new Error(`simulator printed ${hostPaths.length} host paths, expected ${devices}`);
    }
  } catch (err) {
    kill(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    hostPaths,
    deviceMs: () => log.totals().deviceMs,
    requests: () => log.totals().requests,
    cpuMs: () => processTreeCpuMs(child.pid!),
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HEADER_POLL_MS = 50;
const HEADER_TIMEOUT_MS = 60_000;

/** `SIM000001 #12 GEN_KEY_CSR 182 ms` lines, read from the log file when totals are asked for. */
class RequestLog {
  private offset = 0;
  private partial = '';
  private deviceMs = 0;
  private requests = 0;

  constructor(private readonly file: string) {}

  /** Bytes of the header, not request lines. */
  skip(bytes: number): void {
    this.offset = bytes;
  }

  totals(): { deviceMs: number; requests: number } {
    const all = readFileSync(this.file);
    const text = this.partial + all.subarray(this.offset).toString('utf8');
    this.offset = all.length;
    const cut = text.lastIndexOf('\n') + 1;
    this.partial = text.slice(cut);
    for (const m of text.slice(0, cut).matchAll(/^\S+ #\d+ \S+ ([\d.]+) ms/gm)) {
      this.deviceMs += Number(m[1]);
      this.requests++;
    }
    return { deviceMs: this.deviceMs, requests: this.requests };
  }
}

function kill(child: ChildProcess): void {
  child.kill('SIGKILL');
}
