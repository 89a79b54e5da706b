/**
 * Provision pressed while a restarted line asks a board whether it still holds its PASS
 * (Slot.confirmEarlierPass) ends the check, and the operator's run waits for the check to let
 * the port go. A Cancel pressed in that wait withdraws the start: the operator is told the check
 * was cancelled, so no run may write the board. The check is held open by a device that stalls
 * mid-INFO. Real ptys, the real store on the CA's database, the firmware's own FACTORY_RESET.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createDemoCa, type DemoCa } from '../demo/demoCa.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import type { Line, LineOptions } from './line.js';
import { Slot } from './slot.js';
import {
  codeOf,
  factoryReset,
  nextRunEnd,
  slotReaches,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let demoCa: DemoCa | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  await demoCa?.dispose();
  line = simulator = demoCa = undefined;
});

/**
 * A board passed on a line now stopped, then lost its identity (so any run would write and
 * commit a new one), and the line started again in auto mode with its check of the board held
 * mid-INFO. Returns once the stall has struck, with the check's result (wrapped: awaiting this
 * must not wait for the check to end).
 */
async function wipedBoardUnderCheck(): Promise<{
  device: SimulatedDevice;
  store: ProvisioningStore;
  restarted: Line;
  check: { result: Promise<boolean> };
}> {
  simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
  const device = simulator.devices[0]!;
  demoCa = await createDemoCa('Line Station CANCEL CHECK TEST');
  const store = new ProvisioningStore(demoCa.db);
  const options: Partial<LineOptions> = {
    ca: demoCa.ca,
    profile: testProfile({ duplicates: 'reprovision' }),
    recorder: store,
    ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    mode: 'auto',
  };
  line = await testLine(options);
  const first = nextRunEnd(line, 20_000);
  await line.start();
  expect(codeOf(await first)).toBe('PASS');
  await line.stop();
  await factoryReset(device.hostPath);
  expect(device.state.identityState).toBe(0);

  // INFO's timeouts long enough (3 × 10 s) that only the operator can end the check in time.
  const restarted = await testLine({ ...options, sessionOptions: { timeoutScale: 20 } });
  line = restarted;
  const stalled = device.faults.stallDuringNext('INFO');
  const original = Slot.prototype.confirmEarlierPass;
  const checkStarted = new Promise<{ result: Promise<boolean> }>((resolve) => {
    const spy = vi.spyOn(Slot.prototype, 'confirmEarlierPass');
    spy.mockImplementation(function (this: Slot, open) {
      spy.mockRestore();
      const result = original.call(this, open);
      resolve({ result });
      return result;
    });
  });
  await restarted.start();
  const check = await checkStarted;
  expect(
    await within(
      10_000,
      stalled.then(() => 'stalled'),
    ),
  ).toBe('stalled');
  return { device, store, restarted, check };
}

describe('Provision pressed during the check of a board left on its port', () => {
  it('then Cancel before the check ended: no run, the board keeps no new identity, the card says cancelled', async () => {
    const { device, store, restarted, check } = await wipedBoardUnderCheck();
    const ran = vi.spyOn(Slot.prototype, 'run');
    const shown = slotReaches(restarted.onSlotChanged, 1, 'cancelled', 'running', 'pass');

    restarted.provision(1);
    expect(restarted.slots()[0]).not.toMatchObject({ state: 'running' }); // the check still runs
    restarted.cancel(1);
    expect(await within(5_000, check.result)).toBe(false);
    device.faults.clearStall(); // a run that wrongly followed would get its answers
    expect(await within(5_000, shown)).toMatchObject({
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED', detail: 'the operator cancelled the check of the device' },
    });
    expect(ran).not.toHaveBeenCalled();
    expect(store.runs({})).toHaveLength(1); // only the PASS before the restart
    expect(device.state.identityState).toBe(0);
    expect(restarted.slots()[0]).toMatchObject({ state: 'cancelled' });

    // Provision then runs the board, as after a cancelled run.
    const ended = nextRunEnd(restarted, 10_000);
    restarted.provision(1);
    expect(codeOf(await ended)).toBe('PASS');
    expect(device.state.identityState).toBe(1);
  });

  it('twice (a double click): one run, the operator’s', async () => {
    const { device, store, restarted, check } = await wipedBoardUnderCheck();
    const ran = vi.spyOn(Slot.prototype, 'run');

    const ended = nextRunEnd(restarted, 10_000);
    restarted.provision(1);
    restarted.provision(1);
    expect(await within(5_000, check.result)).toBe(false);
    device.faults.clearStall(); // before the run, which opens its port after this tick, asks
    expect(codeOf(await ended)).toBe('PASS');
    expect(ran).toHaveBeenCalledTimes(1);
    const runs = store.runs({ serialNumber: device.serialNumber });
    expect(runs.map((r) => [r.state, r.startedBy])).toEqual([
      ['pass', 'operator'],
      ['pass', 'auto'],
    ]);
  });
});
