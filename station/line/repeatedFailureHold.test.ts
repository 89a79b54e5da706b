/**
 * The hold on a slot whose device keeps failing (FailureStreak), on real ptys: the operator's
 * start counts afresh, manual mode never holds, and a device on a held port that does not say
 * who it is still gets its run. The line never polls by itself here (60 s): each appearance is
 * a rescan, so every run is one the test asked for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { Line } from './line.js';
import {
  byIdLink,
  codeOf,
  InMemoryRunRecorder,
  nextRunEnd,
  testLine,
  within,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let dir: string | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = undefined;
  simulator = undefined;
  dir = undefined;
});

/** A line on one by-id link to `first`; `point` re-aims the link as udev does. */
async function startLine(first: SimulatedDevice, mode: 'auto' | 'manual') {
  dir = await mkdtemp(join(tmpdir(), 'line-repeat-'));
  const { port, point } = await byIdLink(dir, first.hostPath);
  const recorder = new InMemoryRunRecorder();
  // Manual: the test switches to `mode` once it has armed the first fault.
  line = await testLine({
    recorder,
    ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
    sessionOptions: { timeoutScale: 0.2, retries: 1 }, // room for a loaded CI machine
  });
  await line.start();
  const started = line;
  const setMode = () => started.setMode(mode);
  return { line: started, recorder, point, setMode };
}

/**
 * One run of `device`, started by `start`, that its watchdog ends in key generation; then the
 * device comes back behind the link, for the line's next poll (a rescan here) to find. Resolves
 * with the code the run ended with and the one its slot showed then.
 */
async function watchdogRun(
  device: SimulatedDevice,
  point: (hostPath: string) => Promise<void>,
  start: () => unknown,
): Promise<[string | undefined, string | undefined]> {
  const reset = device.faults.unplugDuringNext('GEN_KEY_CSR');
  const ended = nextRunEnd(line!);
  start();
  const end = await ended;
  const shown = line!.slots()[0]?.error?.code;
  if (
    (await within(
      5000,
      reset.then(() => true),
    )) === undefined
  )
    return [codeOf(end), shown];
  await point(await device.faults.replug());
  return [codeOf(end), shown];
}

describe('a slot held after repeated failures', () => {
  it('counts afresh from Provision again: the next failure shows its own error, and auto mode runs the device again', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, recorder, point, setMode } = await startLine(device, 'auto');
    const rescan = () => line.rescan();
    const runs = [
      await watchdogRun(device, point, setMode),
      await watchdogRun(device, point, rescan),
      await watchdogRun(device, point, rescan),
    ];
    expect(runs.map(([, shown]) => shown)).toEqual([
      'WIRE_DISCONNECTED',
      'WIRE_DISCONNECTED',
      'RUN_REPEATED_FAILURE',
    ]);

    // Held: the reset device's return starts nothing (a run would end well within the wait).
    const none = nextRunEnd(line!, 2000);
    await line.rescan();
    expect(await none).toBeUndefined();
    expect(recorder.runs).toHaveLength(3);

    // The operator's start runs it and counts from one: its failure is shown as itself, and
    // auto mode runs it again after its reset, as any device below the limit.
    runs.push(await watchdogRun(device, point, () => line.provision(1)));
    runs.push(await watchdogRun(device, point, rescan));
    expect(runs.slice(3)).toEqual([
      ['WIRE_DISCONNECTED', 'WIRE_DISCONNECTED'],
      ['WIRE_DISCONNECTED', 'WIRE_DISCONNECTED'],
    ]);
    expect(recorder.runs).toHaveLength(5);
  });

  it("manual mode: every failure is the operator's own run, shown as itself", async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, point } = await startLine(device, 'manual');
    const runs: [string | undefined, string | undefined][] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(await watchdogRun(device, point, () => line.provision(1)));
      await line.rescan();
    }
    expect(runs).toEqual(Array(4).fill(['WIRE_DISCONNECTED', 'WIRE_DISCONNECTED']));
  });

  it('runs a device on the held port that does not say who it is', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [broken, hung] = simulator.devices;
    const { line, recorder, point, setMode } = await startLine(broken!, 'auto');
    const rescan = () => line.rescan();
    await watchdogRun(broken!, point, setMode);
    await watchdogRun(broken!, point, rescan);
    const third = broken!.faults.unplugDuringNext('GEN_KEY_CSR');
    const ended = nextRunEnd(line!);
    await line.rescan();
    await ended;
    await within(5000, third);
    expect(line.slots()[0]?.error?.code).toBe('RUN_REPEATED_FAILURE');

    // A device that answers nothing: the line cannot tell it from the broken one, so it runs it.
    hung!.faults.stall('forever');
    const run = nextRunEnd(line!);
    await point(hung!.hostPath);
    await line.rescan();
    const unknown = await run;
    expect(codeOf(unknown)).toBe('WIRE_TIMEOUT');
    expect(unknown?.outcome).not.toHaveProperty('device');
    expect(line.slots()[0]?.error?.code).toBe('WIRE_TIMEOUT');
    expect(recorder.runs).toHaveLength(4);
  });

  it("lets the operator's Provision end a check still waiting for a silent device, and runs it", async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [broken, silent] = simulator.devices;
    const { line, recorder, point, setMode } = await startLine(broken!, 'auto');
    const rescan = () => line.rescan();
    await watchdogRun(broken!, point, setMode);
    await watchdogRun(broken!, point, rescan);
    await watchdogRun(broken!, point, rescan);
    expect(line.slots()[0]?.error?.code).toBe('RUN_REPEATED_FAILURE');

    silent!.faults.stall('forever');
    await point(silent!.hostPath);
    await line.rescan(); // the held slot now asks the silent device who it is
    const run = nextRunEnd(line!);
    expect(() => line.provision(1)).not.toThrow();
    expect(codeOf(await run)).toBe('WIRE_TIMEOUT');
    expect(recorder.runs).toHaveLength(4);
  });
});
