/**
 * The simulator in a child process (`tsx firmware-bridge/simulator/cli.ts --devices N --log`),
 * so that process.cpuUsage() and the event loop of the benchmark process belong to the station
 * alone. The CLI prints one table row per device (host path) and, with --log, one line per
 * request it answered with the device work time it applied. Host paths are parsed as they come;
 * request lines are only buffered while the bench measures and parsed when asked for, so the
 * instrument costs the station process next to nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  const child = spawn(TSX, ['firmware-bridge/simulator/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': it fires once stdout is drained, so every --log line has been seen.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));
  const log = new RequestLog();
  const hostPaths: string[] = [];
  let head = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onHead = (chunk: Buffer): void => {
      head += chunk.toString('utf8');
      for (const m of head.matchAll(/^\s*\d+\s+\S+\s+(\/\S+|tcp:\/\/\S+)\s+(?:pty|tcp)/gm)) {
        if (!hostPaths.includes(m[1]!)) hostPaths.push(m[1]!);
      }
      const end = head.indexOf('Ctrl-C to stop\n');
      if (end === -1) return;
      child.stdout!.off('data', onHead);
      child.stdout!.on('data', (more: Buffer) => log.push(more));
      log.push(Buffer.from(head.slice(end + 'Ctrl-C to stop\n'.length)));
      resolve();
    };
    child.stdout!.on('data', onHead);
    void exited.then(() => reject(new Error(`simulator exited early: ${stderr.trim()}`)));
  });
  try {
    await ready;
    if (hostPaths.length !== devices) {
      throw new Error(`simulator printed ${hostPaths.length} host paths, expected ${devices}`);
    }
  } catch (err) {
    kill(child);
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
    },
  };
}

/** `SIM000001 #12 GEN_KEY_CSR 182 ms` lines, kept as raw chunks until totals are asked for. */
class RequestLog {
  private chunks: Buffer[] = [];
  private partial = '';
  private deviceMs = 0;
  private requests = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  totals(): { deviceMs: number; requests: number } {
    const text = this.partial + Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
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
