/**
 * The wake floor of the line bench: what this machine charges a Node process for being woken
 * at the pace a one-slot line is woken, measured in the same run as the line.
 *
 * A probe process sends a 64-byte request through a pipe to a peer process that answers after
 * `gapMs`, and sends its next request as soon as the answer arrives: one wake per request and
 * nothing else to do, as the station is woken once per device response (one request outstanding,
 * PROTOCOL.md §6.1). The probe's CPU per round trip, times the station's requests per device, is
 * what being woken that often at that pace costs a process that does nothing else. On the
 * bench VM a wake cost the probe 33 µs at 1 ms intervals and 195 µs at 50 ms: sleeping itself
 * has a price there, and the row's CPU above the floor is the station's own work plus what its
 * larger code and data cost to bring back after each sleep.
 */
import { spawn } from 'node:child_process';

/** Round trips before the probe measures (its own module loading and first-call costs). */
const WARM_UP_ROUND_TRIPS = 16;

const PEER = `
  process.stdin.on('data', (request) => {
    setTimeout(() => process.stdout.write(request), Number(process.env.GAP_MS));
  });
`;

const PROBE = `
  const { spawn } = require('node:child_process');
  const peer = spawn(process.execPath, ['-e', process.env.PEER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const request = Buffer.alloc(64, 0x5a);
  const total = Number(process.env.WARM_UP) + Number(process.env.ROUND_TRIPS);
  let done = 0;
  let before;
  peer.stdout.on('data', () => {
    done += 1;
    if (done === Number(process.env.WARM_UP)) before = process.cpuUsage();
    if (done < total) return peer.stdin.write(request);
    const cpu = process.cpuUsage(before);
    process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 }) + '\\n');
    peer.kill();
  });
  peer.stdin.write(request);
`;

/** CPU milliseconds the probe spent per round trip at `gapMs` between request and answer. */
export async function wakeCostMs(gapMs: number, roundTrips: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', PROBE], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PEER,
      GAP_MS: String(gapMs),
      WARM_UP: String(WARM_UP_ROUND_TRIPS),
      ROUND_TRIPS: String(roundTrips),
    },
  });
  let output = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => (output += text));
  // Bounded: the probe's own run time plus a generous margin for process start-up.
  const limitMs = (WARM_UP_ROUND_TRIPS + roundTrips) * (gapMs + 50) + 10_000;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const result = /\{.*\}/.exec(output);
  if (exitCode !== 0 || !result) {
    throw new Error(`the wake probe failed (exit ${String(exitCode)}): ${output.trim()}`);
  }
  return (JSON.parse(result[0]) as { cpuMs: number }).cpuMs / roundTrips;
}
