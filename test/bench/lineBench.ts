/**
 * `npm run bench -- line`: the line engine's throughput at 1, 8, 32 and 64 slots against its
 * physical floor, with the station's CPU per device and its event-loop lag.
 *
 * One line for the whole bench, as a station runs one line all day: one simulator child process
 * with a device on each of 64 ports (or the largest row's count; socat ptys, 115200 baud,
 * default device latencies; `--link tcp` for loopback TCP), the DEMO CA, the SQLite
 * ProvisioningStore on the CA's in-memory database, and a Line in manual mode on the simulator's
 * ports. A row of k slots keeps k of those ports busy, the others idle with their devices
 * attached. Slots start spread over about one run time, as devices are plugged one after
 * another, and each slot starts its next run as soon as one ends (lineBenchRounds.ts), so every
 * slot re-provisions its simulated device again and again (duplicates: 'reprovision'). A re-run
 * is the same exchange as a fresh device: the same requests and bytes, a new key generation,
 * CSR, leaf and flash write, and the store supersedes the earlier enrollment.
 *
 * Before the first row the line warms up: 1,024 runs on 64 slots, the first few seconds of a
 * line's day. V8 optimises a function only after many calls; the steps of a run are called a few
 * times per device, so without this the 1- and 8-slot rows (measured first, on few devices) ran
 * much of the station in the interpreter and baseline code, a cost a line that runs all day pays
 * once per process, not per device. Then V8's memory reducer compacts the heap in one to three
 * major GCs, once, some 30–90 s after the warm-up's allocation rate drops (heapSettle.ts): the
 * first row waits for it with its slots at work, as a line that slows down keeps working.
 * Why one line, and the settle with slots at work: optimised code depends weakly on the objects
 * it was specialised for, and when those die in a GC (a line closed, an idle heap compacted) V8
 * throws the code away. With a line per row and an idle settle, V8 --trace-deopt showed 67 of
 * the station's functions deoptimised ("weak objects") in the settle's one GC, and perf put 73 %
 * of the 1-slot row's JS samples in baseline code; with the settle on a running row, 53 %. The
 * rest stays baseline because V8 optimises a function after hundreds of calls, more than a
 * 1-slot row's 100 runs give. Two same-hour pairs of 1- and 8-slot runs on the bench VM, this
 * layout against a line per row: 8.81 and 9.78 against 12.82 and 9.66 CPU ms per device at 1
 * slot, 5.96 and 6.33 against 6.97 and 6.66 at 8 (one run to the next moves by a millisecond).
 * Unlike a line per row, the rows share the one store (it grows by every run before them, as a
 * day's store does) and a row of k slots runs beside 64 - k idle attached devices (an idle port
 * costs nothing while no byte arrives).
 * The request timer (lineBenchRounds.ts) is installed once, for the same reason: V8 keeps code
 * that relies on a prototype's method only while that method stays the one it saw, and a timer
 * swapped in and out around each row would change it twice per row.
 *
 * Windows per row, all in the line's steady state: 32 runs (at least one per slot) of warm-up,
 * then K runs per slot (at least 64) for throughput and CPU, from one run's end to the end of
 * the last counted, then as many
 * with the event-loop monitor on, for lag only (the monitor wakes every 1 ms and costs ~20 ms of
 * CPU per second itself).
 *
 * - floor: per device, bytes on the wire × 10 / baud (the station session's counters, both
 *   directions) plus the device work time the simulator reported (its --log lines), averaged
 *   over every run of the row; floor devices/hour = slots × 3600 s / per-device floor.
 * - cpuMsPerDevice: this process's process.cpuUsage() over the throughput window / devices. The
 *   simulator runs in its own process; V8's GC and compiler threads and libuv's pool count here.
 *   The bench runs bundled, under plain Node, as the shipped core does (scripts/buildBench.ts).
 * - station ms/run: run time outside device requests (validation, CA, checks, store, events).
 * - lagP99Ms: monitorEventLoopDelay at 1 ms resolution (the interval is part of every sample).
 * - wake floor (1 slot, table only): a bare Node process woken once per request at the row's
 *   mean interval between responses (wakeFloor.ts), its CPU per wake × the station's requests
 *   per device, measured after the row on the idle machine: what this machine charges for the
 *   wake-ups alone, against which the row's CPU per device can be read run by run.
 *
 * `--profile PREFIX` writes a V8 CPU profile of each row's throughput window to
 * PREFIX-<slots>.cpuprofile (open it in Chrome DevTools); its sampler inflates that row's CPU.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { uartMs } from '../../firmware-bridge/simulator/linkPacer.js';
import type { RunEnded } from '../../station/line/line.js';
import { openBenchLine, type BenchLine } from './benchLine.js';
import { LineDriver, timeInRequests, type RequestTimer } from './lineBenchRounds.js';
import { mainThreadCpuMs } from './processTreeCpu.js';
import { startCpuProfile } from './cpuProfile.js';
import { settleHeap } from './heapSettle.js';
import { printTable } from './table.js';
import { wakeCostMs } from './wakeFloor.js';

const BAUD = 115_200;
/** Runs before measuring, spread over the slots. */
const WARM_UP_DEVICES = 32;
/** Slots start spread over about one run time, as devices are plugged one after another. */
const RUN_SPREAD_MS = 400;
/** The process warm-up before the first row: slots × runs per slot. */
const PROCESS_WARM_UP = { slots: 64, perSlot: 16 };
/**
 * Fewest devices the throughput window measures: a few slots run K devices in a few seconds,
 * and one of V8's major GC cycles (or a burst of re-optimisation after one) landing in so short
 * a window would swing CPU per device. At 1 slot, 64 devices take about 27 s.
 */
const MIN_MEASURED_DEVICES = 64;
/** Round trips the wake probe measures for the one-slot row (about 3 s at its pace). */
const WAKE_PROBE_ROUND_TRIPS = 64;

interface Row {
  slots: number;
  devices: number;
  failures: number;
  wallMs: number;
  meanRunMs: number;
  floorMsPerDevice: number;
  devicesPerHour: number;
  floorDevicesPerHour: number;
  floorRatio: number;
  cpuMsPerDevice: number;
  /** The kernel's share of cpuMsPerDevice (system calls: tty reads and writes, epoll). */
  systemMsPerDevice: number;
  /** The main thread's share of cpuMsPerDevice (the rest: V8 GC and compiler threads, libuv). */
  mainThreadMsPerDevice: number | undefined;
  /** Mean per run of the time outside device requests: validation, CA, checks, store, events. */
  stationMsPerRun: number;
  /**
   * One slot only: the CPU a bare Node process costs here when woken once per request at the
   * row's pace (wakeFloor.ts), times the station's requests per device.
   */
  wakeFloorMsPerDevice: number | undefined;
  /** CPU of the simulator child and its socats over the measured window, % of one core. */
  simulatorCpuPercent: number | undefined;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  firstFailure?: string;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      slots: { type: 'string', default: '1,8,32,64' },
      'per-slot': { type: 'string', default: '8' },
      link: { type: 'string', default: 'pty' },
      profile: { type: 'string' },
    },
  });
  const perSlot = Number(values['per-slot']);
  const link = values.link;
  if (link !== 'pty' && link !== 'tcp') throw new Error('--link must be pty or tcp');
  const slotCounts = values.slots.split(',').map(Number);
  if (!Number.isInteger(perSlot) || perSlot < 1) throw new Error('--per-slot must be ≥ 1');
  if (slotCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    throw new Error('--slots must list whole numbers from 1 to 256');
  }
  console.log(
    `line bench: ${perSlot} devices per slot (at least ${MIN_MEASURED_DEVICES} per row) after ${WARM_UP_DEVICES} warm-up runs; simulator in a child process on ${link === 'pty' ? 'socat ptys' : 'loopback TCP'} at ${BAUD} baud; recorder: ProvisioningStore (SQLite, in memory)`,
  );
  const warmUpStarted = performance.now();
  const lineSlots = Math.max(PROCESS_WARM_UP.slots, ...slotCounts);
  // Installed once, for the whole process: swapping the method in and out around each row would
  // throw away the optimised code of its callers each time (V8 depends on that property).
  const inRequests = timeInRequests();
  const bench = await openBenchLine(lineSlots, BAUD, link);
  const rows: Row[] = [];
  try {
    const driver = new LineDriver(bench.line, PROCESS_WARM_UP.slots, RUN_SPREAD_MS);
    await driver.next(PROCESS_WARM_UP.slots * PROCESS_WARM_UP.perSlot);
    await driver.stop();
    console.log(
      `process warm-up: ${PROCESS_WARM_UP.slots * PROCESS_WARM_UP.perSlot} runs on ${PROCESS_WARM_UP.slots} slots in ${((performance.now() - warmUpStarted) / 1000).toFixed(1)} s`,
    );
    for (const slots of slotCounts) {
      const profile =
        values.profile === undefined ? undefined : `${values.profile}-${slots}.cpuprofile`;
      rows.push(await measureRow(bench, inRequests, slots, perSlot, profile, rows.length === 0));
      if (profile) console.log(`CPU profile of the ${slots}-slot throughput window: ${profile}`);
    }
  } finally {
    await bench.close();
    inRequests.stop();
  }

  printTable(
    [
      'slots',
      'devices',
      'fail',
      'wall s',
      'run ms',
      'floor ms',
      'dev/h',
      'floor dev/h',
      'ratio',
      'cpu ms/dev',
      'sys ms/dev',
      'main ms/dev',
      'station ms/run',
      'wake floor',
      'sim cpu %',
      'lag p50',
      'lag p99',
      'lag max',
    ],
    rows.map((r) => [
      r.slots,
      r.devices,
      r.failures,
      (r.wallMs / 1000).toFixed(2),
      r.meanRunMs.toFixed(1),
      r.floorMsPerDevice.toFixed(1),
      Math.round(r.devicesPerHour),
      Math.round(r.floorDevicesPerHour),
      r.floorRatio.toFixed(3),
      r.cpuMsPerDevice.toFixed(2),
      r.systemMsPerDevice.toFixed(2),
      r.mainThreadMsPerDevice === undefined ? '-' : r.mainThreadMsPerDevice.toFixed(2),
      r.stationMsPerRun.toFixed(2),
      r.wakeFloorMsPerDevice === undefined ? '-' : r.wakeFloorMsPerDevice.toFixed(2),
      r.simulatorCpuPercent === undefined ? '-' : r.simulatorCpuPercent.toFixed(0),
      r.lagP50Ms.toFixed(2),
      r.lagP99Ms.toFixed(2),
      r.lagMaxMs.toFixed(2),
    ]),
  );
  for (const r of rows) {
    if (r.wakeFloorMsPerDevice !== undefined) {
      console.log(
        `${r.slots} slot: ${r.cpuMsPerDevice.toFixed(2)} CPU ms per device, ${(r.cpuMsPerDevice / r.wakeFloorMsPerDevice).toFixed(2)} × the wake floor: a bare Node process woken as often at the same pace costs ${r.wakeFloorMsPerDevice.toFixed(2)} ms here`,
      );
    }
    if (r.firstFailure) console.log(`${r.slots} slots: first failure ${r.firstFailure}`);
  }
  console.log(
    JSON.stringify({
      suite: 'line',
      results: rows.map((r) => ({
        slots: r.slots,
        devicesPerHour: Math.round(r.devicesPerHour),
        floorRatio: round(r.floorRatio, 4),
        cpuMsPerDevice: round(r.cpuMsPerDevice, 3),
        lagP99Ms: round(r.lagP99Ms, 2),
      })),
    }),
  );
}

async function measureRow(
  bench: BenchLine,
  inRequests: RequestTimer,
  slots: number,
  perSlot: number,
  profileFile: string | undefined,
  settleFirst: boolean,
): Promise<Row> {
  const { line, simulator } = bench;
  const all: RunEnded[] = [];
  const stationMs = new Map<RunEnded, number>();
  inRequests.reset();
  const deviceMsBefore = simulator.deviceMs();
  const stopListening = line.onRunEnded.on((run) => {
    all.push(run);
    stationMs.set(run, run.durationMs - inRequests.take(run.port));
  });
  try {
    const driver = new LineDriver(line, slots, RUN_SPREAD_MS);
    // Warm-up: every slot into its steady rhythm.
    await driver.next(Math.max(WARM_UP_DEVICES, slots));
    if (settleFirst) {
      // V8's memory reducer compacts the heap once, some 30-90 s after the warm-up's allocation
      // rate drops; it runs here, with this row's slots at work as a line that slows down keeps
      // working, and the window opens at a run's end after it (heapSettle.ts).
      const settled = await settleHeap();
      console.log(
        settled.majorGcs > 0
          ? `V8 settled: ${settled.majorGcs} major GCs (the memory reducer) within ${(settled.waitedMs / 1000).toFixed(1)} s, ${slots} slot(s) running`
          : `V8 ran no major GC within ${(settled.waitedMs / 1000).toFixed(0)} s, ${slots} slot(s) running; the row may include it`,
      );
      await driver.next(slots);
    }

    // Throughput and CPU over a window from one run's end to the end of the N-th after it, with
    // no instrument in this process but the request timer (a closure per request). The
    // simulator's CPU is read from /proc (a scan of every process): outside the window.
    const simCpuBefore = simulator.cpuMs();
    const requestsBefore = simulator.requests();
    const profiler = profileFile === undefined ? undefined : await startCpuProfile();
    const cpuBefore = process.cpuUsage();
    const mainBefore = mainThreadCpuMs();
    const started = performance.now();
    const measured = await driver.next(Math.max(perSlot * slots, MIN_MEASURED_DEVICES));
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const mainAfter = mainThreadCpuMs();
    const simCpuAfter = simulator.cpuMs();
    const requestsPerDevice = (simulator.requests() - requestsBefore) / measured.length;
    if (profiler && profileFile) await profiler.stop(profileFile);

    // As many runs again with the event-loop monitor on: it wakes every 1 ms and costs ~20 ms of
    // CPU per second itself, so it stays out of the CPU figure above.
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const lagRound = await driver.next(perSlot * slots);
    lag.disable();
    await driver.stop();
    // With the line idle: the probe must not share the CPU with it.
    const wakeFloorMsPerDevice =
      slots === 1
        ? (await wakeCostMs(wallMs / measured.length / requestsPerDevice, WAKE_PROBE_ROUND_TRIPS)) *
          requestsPerDevice
        : undefined;

    const passes = measured.filter((r) => r.outcome.state === 'pass');
    const failed = [...measured, ...lagRound].find((r) => r.outcome.state !== 'pass');
    // Every run of the row against everything the simulator reported for it.
    const bytes = all.reduce(
      (n, r) => n + r.outcome.link.bytesWritten + r.outcome.link.bytesRead,
      0,
    );
    const floorMsPerDevice =
      (uartMs(bytes, BAUD) + simulator.deviceMs() - deviceMsBefore) / all.length;
    const devicesPerHour = (passes.length / wallMs) * 3_600_000;
    const floorDevicesPerHour = (slots * 3_600_000) / floorMsPerDevice;
    const row: Row = {
      slots,
      devices: measured.length,
      failures: measured.length - passes.length,
      wallMs,
      meanRunMs: measured.reduce((n, r) => n + r.durationMs, 0) / measured.length,
      floorMsPerDevice,
      devicesPerHour,
      floorDevicesPerHour,
      floorRatio: devicesPerHour / floorDevicesPerHour,
      cpuMsPerDevice: (cpu.user + cpu.system) / 1000 / measured.length,
      systemMsPerDevice: cpu.system / 1000 / measured.length,
      mainThreadMsPerDevice:
        mainBefore === undefined || mainAfter === undefined
          ? undefined
          : (mainAfter - mainBefore) / measured.length,
      stationMsPerRun: measured.reduce((n, r) => n + (stationMs.get(r) ?? 0), 0) / measured.length,
      wakeFloorMsPerDevice,
      simulatorCpuPercent:
        simCpuBefore === undefined || simCpuAfter === undefined
          ? undefined
          : ((simCpuAfter - simCpuBefore) / wallMs) * 100,
      lagP50Ms: lag.percentile(50) / 1e6,
      lagP99Ms: lag.percentile(99) / 1e6,
      lagMaxMs: lag.max / 1e6,
    };
    if (failed && failed.outcome.state !== 'pass') {
      row.firstFailure = `slot ${failed.slot}: ${failed.outcome.error.code} ${failed.outcome.error.detail ?? ''}`;
    }
    return row;
  } finally {
    stopListening();
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
