/**
 * The hold on a slot whose device drops before it says who it is (NoAnswerStreak), on real
 * ptys: a device reset by its watchdog in INFO comes back as "the next device", so without the
 * hold it is run, and fails, for ever. The line never polls by itself here (60 s): each
 * appearance is a rescan, so every run and every check is one the test asked for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageName } from '../../firmware-bridge/codec/messages.js';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { Line } from './line.js';
import type { SlotView } from './lineTypes.js';
import { NO_ANSWER_LIMIT } from './noAnswerStreak.js';
import { Slot } from './slot.js';
import {
  byIdLink,
  codeOf,
  InMemoryRunRecorder,
  nextEvent,
  nextRunEnd,
  testLine,
  within,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = undefined;
  simulator = undefined;
  dir = undefined;
});

/** A line in manual mode on one by-id link to `device`; `point` re-aims the link as udev does. */
async function startLine(device: SimulatedDevice) {
  dir = await mkdtemp(join(tmpdir(), 'line-noanswer-'));
  const { port, point } = await byIdLink(dir, device.hostPath);
  const recorder = new InMemoryRunRecorder();
  line = await testLine({
    recorder,
    ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
    sessionOptions: { timeoutScale: 0.2, retries: 1 }, // room for a loaded CI machine
  });
  await line.start();
  const started = line;
  /** The device comes back behind the link after a reset, for the next rescan to find. */
  const replug = async () => point(await device.faults.replug());
  return { line: started, recorder, point, replug };
}

/**
 * One run of `device`, started by `start`, that its watchdog ends in `request` (INFO: before it
 * said who it is); then the device comes back behind the link. Resolves with the code the run
 * ended with and the one its slot showed then.
 */
async function resetRun(
  device: SimulatedDevice,
  replug: () => Promise<void>,
  start: () => unknown,
  request: MessageName = 'INFO',
): Promise<[string | undefined, string | undefined]> {
  const reset = device.faults.unplugDuringNext(request);
  const ended = nextRunEnd(line!);
  await start();
  const end = await ended;
  const shown = line!.slots()[0]?.error?.code;
  if (
    (await within(
      5000,
      reset.then(() => true),
    )) === true
  )
    await replug();
  return [codeOf(end), shown];
}

/**
 * Auto mode on, then three runs in a row that the device's watchdog ends before INFO answers
 * (the slot holds after them); resolves with each run's code and the slot's.
 */
async function threeDrops(device: SimulatedDevice, started: Line, replug: () => Promise<void>) {
  const rescan = () => started.rescan();
  return [
    await resetRun(device, replug, () => started.setMode('auto')),
    await resetRun(device, replug, rescan),
    await resetRun(device, replug, rescan),
  ];
}

/** Resolves with the result of the next recheck a slot ends, or undefined if none within `ms`. */
function nextRecheck(ms: number): Promise<boolean | undefined> {
  const original = Slot.prototype.recheck;
  const spy = vi.spyOn(Slot.prototype, 'recheck');
  const checked = new Promise<boolean>((resolve) => {
    spy.mockImplementation(function (this: Slot, open) {
      spy.mockRestore();
      const result = original.call(this, open);
      void result.then(resolve);
      return result;
    });
  });
  return within(ms, checked).finally(() => spy.mockRestore());
}

/** The slot views `target` sends until `stop`. */
function viewsDuring(target: Line) {
  const views: SlotView[] = [];
  const dispose = target.onSlotChanged.on((view) => views.push(view));
  return { views, stop: dispose };
}

describe('a slot whose device drops before it answers', () => {
  it('auto mode: holds at the 3rd drop, gives its return no run and no check, and runs it on Provision', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, recorder, replug } = await startLine(device);
    const runs = await threeDrops(device, line, replug);
    const ownCode = runs[0]![0];
    expect(ownCode).toMatch(/^WIRE_/);
    expect(runs).toEqual([
      [ownCode, ownCode],
      [ownCode, ownCode],
      [ownCode, 'RUN_NO_ANSWER_REPEATED'],
    ]);
    const held = line.slots()[0]!;
    expect(held).toMatchObject({ state: 'fail', error: { code: 'RUN_NO_ANSWER_REPEATED' } });
    expect(held.error!.message).toContain('3 times in a row');
    expect(held.error!.message).toContain('Check its cable and power, then press Provision.');
    expect(held.error!.message).toContain(`(${ownCode})`); // the last run's own error stays

    // Its watchdog brings it back, working now: nothing asks it anything, nothing flickers.
    const seen = viewsDuring(line);
    const asked = within(
      2000,
      nextEvent(device.onRequest, (e) => e.name === 'INFO'),
    );
    const none = nextRunEnd(line!, 2000); // a run here ends within ~0.2 s
    await line.rescan();
    expect(await asked).toBeUndefined();
    expect(await none).toBeUndefined();
    seen.stop();
    expect(seen.views).toEqual([]);
    expect(line.slots()[0]?.error?.code).toBe('RUN_NO_ANSWER_REPEATED');
    expect(recorder.runs).toHaveLength(3);

    // The technician checked the cable and presses Provision: it runs, and passes.
    const passed = nextRunEnd(line!);
    line.provision(1);
    expect(codeOf(await passed)).toBe('PASS');
    expect(recorder.runs).toHaveLength(4);
  });

  it('counts afresh from Provision: two more drops in auto mode show their own error', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, replug } = await startLine(device);
    const rescan = () => line.rescan();
    await threeDrops(device, line, replug);
    await line.rescan();
    expect(line.slots()[0]?.error?.code).toBe('RUN_NO_ANSWER_REPEATED');

    const again = [
      await resetRun(device, replug, () => line.provision(1)),
      await resetRun(device, replug, rescan),
    ];
    expect(again.map(([, shown]) => shown)).toEqual([again[0]![0], again[0]![0]]);
    expect(again[0]![0]).toMatch(/^WIRE_/);
  });

  it('ends the hold when the operator switches the mode: back in auto, the device gets its run', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, replug } = await startLine(device);
    await threeDrops(device, line, replug);
    const none = nextRunEnd(line!, 2000);
    await line.rescan(); // back, and held
    expect(await none).toBeUndefined();

    const run = nextRunEnd(line!);
    line.setMode('manual');
    line.setMode('auto');
    expect(codeOf(await run)).toBe('PASS');
  });

  it('starts counting again when a run hears the device say who it is', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, replug } = await startLine(device);
    const rescan = () => line.rescan();
    const runs = [
      await resetRun(device, replug, () => line.setMode('auto')),
      await resetRun(device, replug, rescan),
      await resetRun(device, replug, rescan, 'GEN_KEY_CSR'), // answered INFO, then reset
      await resetRun(device, replug, rescan),
      await resetRun(device, replug, rescan),
    ];
    expect(runs.map(([, shown]) => shown)).not.toContain('RUN_NO_ANSWER_REPEATED');
    expect(runs.map(([own, shown]) => own === shown)).toEqual([true, true, true, true, true]);
  });

  it("manual mode: every drop is the operator's own run, shown as itself", async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, replug } = await startLine(device);
    const runs: [string | undefined, string | undefined][] = [];
    for (let i = 0; i < NO_ANSWER_LIMIT + 1; i++) {
      runs.push(await resetRun(device, replug, () => line.provision(1)));
      await line.rescan();
    }
    expect(runs[0]![0]).toMatch(/^WIRE_/);
    expect(runs).toEqual(Array(NO_ANSWER_LIMIT + 1).fill([runs[0]![0], runs[0]![0]]));
  });

  it('a device held for its failures that then drops while asked who it is: the checks count, and stop', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, recorder, replug } = await startLine(device);
    const rescan = () => line.rescan();
    await resetRun(device, replug, () => line.setMode('auto'), 'GEN_KEY_CSR');
    await resetRun(device, replug, rescan, 'GEN_KEY_CSR');
    await resetRun(device, replug, rescan, 'GEN_KEY_CSR');
    expect(line.slots()[0]?.error?.code).toBe('RUN_REPEATED_FAILURE');

    // Its watchdog now strikes in INFO: each return is asked who it is, and drops.
    const shown: (string | undefined)[] = [];
    for (let i = 0; i < NO_ANSWER_LIMIT; i++) {
      const reset = device.faults.unplugDuringNext('INFO');
      const checked = nextRecheck(10_000);
      await line.rescan();
      expect(await checked).toBe(false); // no run follows
      await within(5000, reset);
      shown.push(line.slots()[0]?.error?.code);
      await replug();
    }
    expect(shown).toEqual([
      'RUN_REPEATED_FAILURE',
      'RUN_REPEATED_FAILURE',
      'RUN_NO_ANSWER_REPEATED',
    ]);

    // Held for no answer: its return is not asked again, and nothing runs.
    const checked = nextRecheck(2000);
    const none = nextRunEnd(line!, 2000);
    await line.rescan();
    expect(await checked).toBeUndefined();
    expect(await none).toBeUndefined();
    expect(recorder.runs).toHaveLength(3);

    const passed = nextRunEnd(line!);
    line.provision(1);
    expect(codeOf(await passed)).toBe('PASS');
  });
});
