/**
 * The `simulate` command (`npm run simulate`, `station simulate`): serves simulated devices on
 * ttys (or TCP ports) until Ctrl-C, so the station, a terminal program or a firmware engineer can
 * talk to them.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LATENCIES, type DeviceLatencies } from './deviceLatencies.js';
import { SOCAT_MISSING } from './ptyPair.js';
import { DEFAULT_BAUD_RATE, Simulator, type SimulatorOptions } from './simulator.js';
import { EK_CERTIFICATE_SUFFIX, EK_PUBLIC_SUFFIX, tpmFromDirectory } from './tpmDirectory.js';
import { typedPath } from './typedPath.js';

/** package.json's script for this command: run through it, paths are the typed folder's. */
const NPM_SCRIPT = 'simulate';

const usage = (program: string): string => `Usage: ${program} [options]

Serves simulated Line Station devices, each on its own pseudo-terminal (or TCP port), speaking
the wire protocol of firmware-bridge/PROTOCOL.md. Stops on Ctrl-C.

Options:
  --devices N        number of devices (default 1)
  --tcp              serve each device on a loopback TCP port instead of a pty
  --tcp-port N       first TCP port; device i uses N+i (default: ephemeral ports)
  --baud N           UART rate the link is paced at, 8N1 (default ${DEFAULT_BAUD_RATE}; 0 = unpaced)
  --state-dir DIR    where the devices keep their flash (default: a fresh temp dir, deleted on exit)
  --tpm-dir DIR      give every device a TPM, its factory contents read from DIR: device S answers
                     GET_EK with DIR/S${EK_PUBLIC_SUFFIX} (EK public, TPM2B_PUBLIC bytes, required) and
                     DIR/S${EK_CERTIFICATE_SUFFIX} (EK certificate, DER; without it the TPM holds none).
                     S is the serial number: SIM000001 for device 1, SIM000002 for device 2, …
                     (default: no device has a TPM)
  --keygen-ms N      on-chip key generation time (default ${DEFAULT_LATENCIES.keygenMs})
  --sign-ms N        one ECDSA signature (default ${DEFAULT_LATENCIES.signMs})
  --flash-ms N       programming one 4 KiB flash page (default ${DEFAULT_LATENCIES.flashWritePer4KiBMs})
  --boot-ms N        boot time after a reboot or replug (default ${DEFAULT_LATENCIES.bootMs})
  --drop P           probability that a byte is lost, both directions (default 0)
  --corrupt P        probability that a byte is corrupted, both directions (default 0)
  --seed N           seed of the fault PRNG, for repeatable damage (default 1)
  --log              print one line per request a device answers
  --help             show this text
`;

class UsageError extends Error {}

function number(name: string, raw: string | undefined, min: number, max: number, integer: boolean) {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  }
  return value;
}

interface CliOptions {
  simulator: SimulatorOptions;
  drop: number;
  corrupt: number;
  log: boolean;
  tpmDir: string | undefined;
}

const text = { type: 'string' } as const;
const OPTIONS = {
  devices: text,
  tcp: { type: 'boolean' },
  'tcp-port': text,
  baud: text,
  'state-dir': text,
  'tpm-dir': text,
  'keygen-ms': text,
  'sign-ms': text,
  'flash-ms': text,
  'boot-ms': text,
  drop: text,
  corrupt: text,
  seed: text,
  log: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `-1`, `-0.5`, `-3e2`: what a person types as a number. */
const NEGATIVE_NUMBER = /^-\d*\.?\d+(?:e[+-]?\d+)?$/i;

/**
 * parseArgs reads an argument that starts with "-" as an option of its own, so `--devices -1`
 * was refused as "argument is ambiguous" in Node's words, never reaching the option's range
 * check. A value that reads as a negative number is joined to its option (`--devices=-1`), as
 * Node suggests, and the range check refuses it in ours. (station/cli/stationArgs.ts does this
 * for the station's commands; a library may not import from station/.)
 */
function joinNegativeNumbers(args: readonly string[]): string[] {
  const valued = Object.entries(OPTIONS)
    .filter(([, option]) => option.type === 'string')
    .map(([name]) => `--${name}`);
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (valued.includes(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

function parse(args: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: joinNegativeNumbers(args),
    strict: true,
    allowPositionals: false,
    options: OPTIONS,
  });
  if (values.help) return 'help';
  const latencies: Partial<DeviceLatencies> = {};
  const ms = (name: string, raw: string | undefined) => number(name, raw, 0, 600_000, false);
  const keygen = ms('keygen-ms', values['keygen-ms']);
  if (keygen !== undefined) latencies.keygenMs = keygen;
  const sign = ms('sign-ms', values['sign-ms']);
  if (sign !== undefined) latencies.signMs = sign;
  const flash = ms('flash-ms', values['flash-ms']);
  if (flash !== undefined) latencies.flashWritePer4KiBMs = flash;
  const boot = ms('boot-ms', values['boot-ms']);
  if (boot !== undefined) latencies.bootMs = boot;

  const simulator: SimulatorOptions = {
    devices: number('devices', values.devices, 1, 256, true) ?? 1,
    link: values.tcp ? 'tcp' : 'pty',
    baudRate: number('baud', values.baud, 0, 10_000_000, true) ?? DEFAULT_BAUD_RATE,
    latencies,
    seed: number('seed', values.seed, 0, 2 ** 32 - 1, true) ?? 1,
  };
  const tcpPort = number('tcp-port', values['tcp-port'], 1, 65_535, true);
  if (tcpPort !== undefined) {
    // Caught here rather than by Simulator.start: a bad combination is the user's to fix (exit 2),
    // and a pty bench given a port would otherwise run on ptys as if the port meant nothing.
    if (!values.tcp) throw new UsageError('--tcp-port needs --tcp');
    if (tcpPort + simulator.devices - 1 > 65_535) {
      throw new UsageError(
        `--tcp-port ${tcpPort} leaves no port for device ${65_537 - tcpPort}: the devices use N up to N+devices-1, at most 65535`,
      );
    }
    simulator.tcpBasePort = tcpPort;
  }
  if (values['state-dir'] !== undefined) {
    simulator.stateDir = typedPath(values['state-dir'], NPM_SCRIPT);
  }
  let tpmDir = values['tpm-dir'];
  if (tpmDir !== undefined) {
    if (tpmDir === '') throw new UsageError('--tpm-dir needs a directory');
    tpmDir = typedPath(tpmDir, NPM_SCRIPT);
    simulator.tpm = tpmFromDirectory(tpmDir);
  }
  const drop = number('drop', values.drop, 0, 1, false) ?? 0;
  const corrupt = number('corrupt', values.corrupt, 0, 1, false) ?? 0;
  if (drop + corrupt > 1) throw new UsageError('--drop plus --corrupt must not exceed 1');
  return { simulator, drop, corrupt, log: values.log ?? false, tpmDir };
}

function printTable(sim: Simulator, baudRate: number): void {
  const rows = sim.devices.map((d) => [
    String(d.index + 1),
    d.serialNumber,
    d.hostPath,
    d.linkKind === 'pty' ? `pty, ${baudRate ? `${baudRate} 8N1` : 'unpaced'}` : 'tcp raw',
  ]);
  const header = ['#', 'serial', 'host path', 'link'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

/** Runs the command; resolves with the exit code once the devices are stopped. */
export async function simulateCommand(
  args: string[],
  program = 'npm run simulate --',
): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parse(args);
  } catch (err) {
    // parseArgs throws TypeErrors with a code for unknown or malformed options.
    const usageError =
      err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!usageError) throw err;
    console.error(`simulate: ${(err as Error).message}\n\n${usage(program)}`);
    return 2;
  }
  if (options === 'help') {
    console.log(usage(program));
    return 0;
  }
  let sim: Simulator;
  try {
    sim = await Simulator.start(options.simulator);
  } catch (err) {
    const message = (err as Error).message;
    console.error(`simulate: ${message}`);
    return message === SOCAT_MISSING ? 3 : 1;
  }
  for (const device of sim.devices) {
    device.faults.setByteFaults({ drop: options.drop, corrupt: options.corrupt });
    if (options.log) {
      device.onRequest.on((e) => {
        const outcome = e.error ? ` -> ${e.error}` : '';
        console.log(`${device.serialNumber} #${e.requestId} ${e.name} ${e.deviceMs} ms${outcome}`);
      });
    }
    device.onLinkLost.on((err) =>
      console.error(`${device.serialNumber}: link lost: ${err.message}`),
    );
  }
  printTable(sim, options.simulator.baudRate ?? DEFAULT_BAUD_RATE);
  console.log(`\nstate: ${sim.stateDir}`);
  if (options.tpmDir !== undefined) console.log(`tpm:   ${options.tpmDir}`);
  console.log('Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}
