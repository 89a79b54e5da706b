/**
 * A real line (CA sealed under a passphrase, profiles file, file store, the default 1 s port
 * poll) in auto mode, with a broken device whose watchdog resets it in the middle of key
 * generation: its tty hangs up and comes back, and the line takes it for the next device. After
 * three failed runs in a row the slot must hold that device (no fourth run, no certificate, a
 * RUN_REPEATED_FAILURE the technician can read) while still running any other device, and
 * "Provision again" must run it.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageName } from '../../firmware-bridge/codec/messages.js';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { SlotView } from '../../station/line/lineTypes.js';
import { nextEvent, nextRunEnd, within } from '../../station/line/testing/lineTestKit.js';
import type { ProductionStation } from '../../station/production/productionStation.js';
import { makeRealLineFolder, stationOnByIdLink } from './realLineFolder.js';

const PASSPHRASE = 'line five passphrase';

let dataDir: string;
let pointPortAt: (hostPath: string) => Promise<void>;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;
/** What the station logged (its terminal, its log file). */
let logged: string[] = [];

beforeEach(async () => {
  ({ dataDir } = await makeRealLineFolder(5, PASSPHRASE));
  logged = [];
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
  station = undefined;
  simulator = undefined;
});

async function startStation(first: SimulatedDevice): Promise<ProductionStation> {
  // Manual: auto once the test has armed the first fault (see threeFailures).
  ({ station, point: pointPortAt } = await stationOnByIdLink(
    dataDir,
    PASSPHRASE,
    first.hostPath,
    (text) => logged.push(text),
  ));
  return station;
}

/** The device comes back on a new tty behind the same link, as after a USB reset. */
async function replug(device: SimulatedDevice): Promise<void> {
  await pointPortAt(await device.faults.replug());
}

/**
 * Arms the broken device's watchdog for key generation, lets `appear` start its run, and waits
 * for the run to end (failed: the tty hung up) and the device to be unplugged by the reset.
 */
async function failingRun(device: SimulatedDevice, appear: () => unknown) {
  const reset = device.faults.unplugDuringNext('GEN_KEY_CSR');
  const ended = nextRunEnd(station!.line, 10_000);
  await appear();
  const end = await ended;
  await within(5000, reset);
  return end?.outcome;
}

/** The requests `device` answers from now on, and the slot views the line shows. */
function watch(device: SimulatedDevice) {
  const requests: MessageName[] = [];
  const views: SlotView[] = [];
  const disposers = [
    device.onRequest.on((e) => {
      if (e.name !== 'UNKNOWN') requests.push(e.name);
    }),
    station!.line.onSlotChanged.on((view) => views.push(view)),
  ];
  return { requests, views, stop: () => disposers.forEach((dispose) => dispose()) };
}

/** Three failed runs of `device`, each ended by its reset; it is left unplugged after the third. */
async function threeFailures(device: SimulatedDevice) {
  const outcomes = [await failingRun(device, () => station!.line.setMode('auto'))];
  outcomes.push(await failingRun(device, () => replug(device)));
  outcomes.push(await failingRun(device, () => replug(device)));
  return outcomes;
}

describe('a real line in auto mode, a device that fails and resets itself', () => {
  it('holds it after 3 failures in a row, gives its 4th appearance no run, and runs it on Provision again', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const broken = simulator.devices[0]!;
    const { line, store } = await startStation(broken);

    const outcomes = await threeFailures(broken);
    expect(outcomes.map((o) => [o?.state, o?.state === 'fail' && o.device?.serialNumber])).toEqual(
      [1, 2, 3].map(() => ['fail', broken.serialNumber]),
    );
    const lastCode = outcomes[2]?.state === 'fail' ? outcomes[2].error.code : undefined;
    const held = line.slots()[0]!;
    expect(held).toMatchObject({
      state: 'fail',
      serialNumber: broken.serialNumber,
      error: { code: 'RUN_REPEATED_FAILURE' },
    });
    expect(held.error!.message).toContain('failed 3 times in a row');
    expect(held.error!.message).toContain(`(${lastCode})`); // the last run's own error stays
    expect(lastCode).toMatch(/^WIRE_/);

    // The watchdog brings it back a 4th time: the line asks who it is (INFO) and runs nothing.
    const seen = watch(broken);
    const asked = within(
      5000,
      nextEvent(broken.onRequest, (e) => e.name === 'INFO'),
    );
    await replug(broken);
    expect(await asked).toBeDefined();
    expect(await nextRunEnd(station!.line, 3000)).toBeUndefined(); // three polls, where a run takes ~0.1 s
    seen.stop();
    expect(seen.requests).toEqual(['INFO']);
    expect(seen.views.filter((v) => v.state === 'running' || v.state === 'waiting')).toEqual([]);
    expect(line.slots()[0]).toMatchObject({
      state: 'fail',
      error: { code: 'RUN_REPEATED_FAILURE' },
    });
    expect(store.runs()).toHaveLength(3);
    // The log says so too, once, beside the three failures; and that the mode was set to auto.
    expect(logged.filter((text) => text.includes('held,'))).toEqual([
      expect.stringMatching(
        /^slot 1 \S+: held, .*failed 3 times in a row.* \[RUN_REPEATED_FAILURE\]$/,
      ),
    ]);
    expect(logged).toContain('Mode: auto, set at the station.');

    // The technician checked it and presses Provision again: it runs, and this time passes.
    const passed = nextRunEnd(station!.line, 10_000);
    line.provision(1);
    expect((await passed)?.outcome).toMatchObject({ state: 'pass' });
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: broken.serialNumber });
    const runs = store.runs().sort((a, b) => a.id - b.id);
    expect(runs.map((r) => [r.state, r.serialNumber])).toEqual([
      ['fail', broken.serialNumber],
      ['fail', broken.serialNumber],
      ['fail', broken.serialNumber],
      ['pass', broken.serialNumber],
    ]);
  });

  it('runs another device plugged into the held slot, as any other', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [broken, next] = simulator.devices;
    const { line, store } = await startStation(broken!);
    await threeFailures(broken!);
    expect(line.slots()[0]).toMatchObject({
      serialNumber: broken!.serialNumber,
      error: { code: 'RUN_REPEATED_FAILURE' },
    });

    // The technician sets the broken device aside and plugs the next one into the fixture.
    const passed = nextRunEnd(station!.line, 10_000);
    await pointPortAt(next!.hostPath);
    expect((await passed)?.outcome).toMatchObject({ state: 'pass' });
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: next!.serialNumber });
    const runs = store.runs().sort((a, b) => a.id - b.id);
    expect(runs.map((r) => [r.state, r.serialNumber])).toEqual([
      ['fail', broken!.serialNumber],
      ['fail', broken!.serialNumber],
      ['fail', broken!.serialNumber],
      ['pass', next!.serialNumber],
    ]);
  });
});
