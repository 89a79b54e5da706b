/**
 * A real line (CA sealed under a passphrase, profiles file, file store, the default 1 s port
 * poll) in auto mode, with a device whose watchdog resets it as soon as it is asked who it is
 * (INFO): its tty hangs up before it answers and comes back, and the line takes it for the next
 * device. After three such runs in a row the slot must hold (no fourth run, not even a question
 * to the device, RUN_NO_ANSWER_REPEATED with what to check), and Provision must run it again.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { SlotView } from '../../station/line/lineTypes.js';
import { nextRunEnd, within } from '../../station/line/testing/lineTestKit.js';
import type { ProductionStation } from '../../station/production/productionStation.js';
import { makeRealLineFolder, stationOnByIdLink } from './realLineFolder.js';

const PASSPHRASE = 'line six passphrase';

let dataDir: string;
let pointPortAt: (hostPath: string) => Promise<void>;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

beforeEach(async () => {
  ({ dataDir } = await makeRealLineFolder(6, PASSPHRASE));
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
  station = undefined;
  simulator = undefined;
});

async function startStation(device: SimulatedDevice): Promise<ProductionStation> {
  // Manual: auto once the test has armed the first fault.
  ({ station, point: pointPortAt } = await stationOnByIdLink(dataDir, PASSPHRASE, device.hostPath));
  return station;
}

/**
 * Arms the watchdog for INFO, lets `appear` start the run, and waits for the run to end (the
 * tty hung up) and the reset to unplug the device; then the device comes back behind the link,
 * on a new tty, for the line's own poll to find.
 */
async function droppedRun(device: SimulatedDevice, appear: () => unknown) {
  const reset = device.faults.unplugDuringNext('INFO');
  const ended = nextRunEnd(station!.line, 15_000);
  await appear();
  const end = await ended;
  const shown = station!.line.slots()[0]?.error;
  if (
    (await within(
      10_000,
      reset.then(() => true),
    )) === true
  ) {
    await pointPortAt(await device.faults.replug());
  }
  return { outcome: end?.outcome, shown };
}

describe('a real line in auto mode, a device that drops before it answers', () => {
  it('holds the slot after 3 drops in a row, starts nothing on its return, and runs it on Provision', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const { line, store } = await startStation(device);

    // Each return is found by the line's own 1 s poll: the next run end is the only wait.
    const runs = [await droppedRun(device, () => line.setMode('auto'))];
    runs.push(await droppedRun(device, () => undefined));
    runs.push(await droppedRun(device, () => undefined));
    expect(runs.map((r) => [r.outcome?.state, r.outcome && 'device' in r.outcome])).toEqual(
      [1, 2, 3].map(() => ['fail', false]),
    );
    const lastCode = runs[2]?.outcome?.state === 'fail' ? runs[2].outcome.error.code : undefined;
    expect(lastCode).toMatch(/^WIRE_/);
    expect(runs.map((r) => r.shown?.code)).toEqual([lastCode, lastCode, 'RUN_NO_ANSWER_REPEATED']);
    const held = line.slots()[0]!;
    expect(held).toMatchObject({ state: 'fail', error: { code: 'RUN_NO_ANSWER_REPEATED' } });
    expect(held.error!.message).toContain('3 times in a row');
    expect(held.error!.message).toContain('Check its cable and power, then press Provision.');
    expect(held.error!.message).toContain(`(${lastCode})`); // the last run's own error stays

    // The device is back (and would answer now): the line sees the port, asks it nothing and
    // starts nothing, over three of its polls, and the slot keeps saying what to do.
    const views: SlotView[] = [];
    const requests: string[] = [];
    const disposers = [
      line.onSlotChanged.on((view) => views.push(view)),
      device.onRequest.on((e) => requests.push(e.name)),
    ];
    const none = nextRunEnd(station!.line, 3000); // a run takes ~0.1 s
    await line.rescan(); // the port is seen now, not only by the next poll
    expect(await none).toBeUndefined();
    disposers.forEach((dispose) => dispose());
    expect(requests).toEqual([]);
    expect(views).toEqual([]);
    expect(line.slots()[0]?.error?.code).toBe('RUN_NO_ANSWER_REPEATED');
    expect(store.runs()).toHaveLength(3);

    // The technician checked the cable and presses Provision: it runs, and passes.
    const passed = nextRunEnd(station!.line, 15_000);
    line.provision(1);
    expect((await passed)?.outcome).toMatchObject({ state: 'pass' });
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: device.serialNumber });
    const runsInStore = store.runs().sort((a, b) => a.id - b.id);
    expect(runsInStore.map((r) => [r.state, r.serialNumber])).toEqual([
      ['fail', null],
      ['fail', null],
      ['fail', null],
      ['pass', device.serialNumber],
    ]);
  }, 90_000);
});
