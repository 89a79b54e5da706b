/**
 * What happens while a restarted line asks a board left on its port whether it still holds its
 * PASS (Slot.confirmEarlierPass, Line.autoStart): the operator's Provision ends the check and
 * runs the board under the duplicate policy; a stop ends it with no run and no session left open;
 * a port gone meanwhile shows no PASS; a switch to manual leaves a board that needs its run armed
 * for auto mode; and a line started in manual mode shows the PASS too, and runs nothing. The
 * check is held open by a device that stalls mid-request. Real ptys, the real store on the CA's
 * database, the simulated firmware's own FACTORY_RESET.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceSession, type SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { createDemoCa, type DemoCa } from '../demo/demoCa.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import type { Line, LineOptions, RunEnded } from './line.js';
import type { SlotView } from './lineTypes.js';
import type { PortPass } from './runRecorder.js';
import { Slot } from './slot.js';
import {
  byIdLink,
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
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  await demoCa?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = simulator = demoCa = dir = undefined;
});

/**
 * One board that passed on a line now stopped, and the options to start that line again with:
 * the same store (on the CA's database, as a station keeps them) and the same port, which is a
 * by-id link to the board when `viaLink`.
 */
async function boardPassedThenLineStopped(
  duplicates: 'refuse' | 'reprovision' = 'refuse',
  viaLink = false,
) {
  simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
  const device = simulator.devices[0]!;
  let port = device.hostPath;
  if (viaLink) {
    dir = await mkdtemp(join(tmpdir(), 'line-check-'));
    port = (await byIdLink(dir, device.hostPath)).port;
  }
  demoCa = await createDemoCa('Line Station CHECK TEST');
  const store = new ProvisioningStore(demoCa.db);
  const options: Partial<LineOptions> = {
    ca: demoCa.ca,
    profile: testProfile({ duplicates }),
    recorder: store,
    ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
    mode: 'auto',
  };
  line = await testLine(options);
  const ended = nextRunEnd(line, 20_000);
  await line.start();
  const first = await ended;
  expect(codeOf(first)).toBe('PASS');
  await line.stop();
  const pass = store.lastPassesByPort()[0]!;
  expect(pass).toMatchObject({ port, serialNumber: device.serialNumber });
  /** The line started again on the same store and port. */
  const restart = async (mode: 'auto' | 'manual', sessionOptions: SessionOptions = {}) => {
    line = await testLine({ ...options, mode, sessionOptions });
    return line;
  };
  return { device, port, store, pass, restart };
}

/**
 * The next earlier-pass check a slot starts, as `{ result }` (wrapped, so awaiting this waits
 * for the check to start, not to end); the check itself runs as usual. The line's own reaction
 * to its result is attached before the test can await `result`, so it has run by then.
 */
function nextCheck(): Promise<{ result: Promise<boolean> }> {
  const original = Slot.prototype.confirmEarlierPass;
  return new Promise((resolve) => {
    const spy = vi.spyOn(Slot.prototype, 'confirmEarlierPass');
    spy.mockImplementation(function (this: Slot, open) {
      spy.mockRestore();
      const result = original.call(this, open);
      resolve({ result });
      return result;
    });
  });
}

/** Every view `line` shows from now on. */
function viewsOf(started: Line): SlotView[] {
  const views: SlotView[] = [];
  started.onSlotChanged.on((view) => views.push(view));
  return views;
}

/** Whether `views` show the restored PASS of `pass` (its run, no run of their own). */
function showsRestored(views: readonly SlotView[], pass: PortPass): boolean {
  return views.some((view) => view.state === 'pass' && view.runId === pass.runId);
}

/** Waits for an armed stall to strike (the check is then mid-request); fails, never hangs. */
async function begun(stalled: Promise<void>): Promise<void> {
  expect(
    await within(
      10_000,
      stalled.then(() => 'stalled'),
    ),
  ).toBe('stalled');
}

/**
 * Starts `restarted` with its check of the board held mid-`request` (the answer lost while the
 * device stalls) and returns, once the stall has struck, the check's result (wrapped: awaiting
 * this must not wait for the check to end).
 */
async function startWithCheckStalled(
  restarted: Line,
  device: SimulatedDevice,
  request: 'INFO' | 'GET_CONFIG',
): Promise<{ result: Promise<boolean> }> {
  const stalled = device.faults.stallDuringNext(request);
  const check = nextCheck();
  await restarted.start();
  const { result } = await check;
  await begun(stalled);
  return { result };
}

async function identifies(device: SimulatedDevice): Promise<string> {
  const session = await DeviceSession.open(createTransport(device.hostPath), {});
  try {
    return (await session.identify()).serialNumber;
  } finally {
    await session.close();
  }
}

describe("a restarted line's check of a board left on its port", () => {
  it.each([
    ['refuse', 'RUN_DUPLICATE_DEVICE', 1],
    ['reprovision', 'PASS', 2],
  ] as const)(
    'ends when the operator presses Provision, and runs the board under the duplicate policy (%s)',
    async (duplicates, code, passes) => {
      const { device, store, pass, restart } = await boardPassedThenLineStopped(duplicates);
      // INFO's timeouts long enough (3 × 10 s) that only the Provision can end the check in time.
      const restarted = await restart('auto', { timeoutScale: 20 });
      const views = viewsOf(restarted);
      const { result } = await startWithCheckStalled(restarted, device, 'INFO'); // the check's INFO is executing, its answer lost: the check waits

      const ended = nextRunEnd(restarted, 10_000);
      restarted.provision(1);
      expect(await within(5_000, result)).toBe(false); // ended by the Provision, not by INFO
      device.faults.clearStall(); // before the run, which opens its port after this tick, asks
      const run = await ended;
      expect(run).toMatchObject({ slot: 1 });
      expect(codeOf(run)).toBe(code);
      expect(showsRestored(views, pass)).toBe(false);
      const runs = store.runs({ serialNumber: device.serialNumber });
      expect(runs).toHaveLength(2);
      expect(runs.filter((r) => r.state === 'pass')).toHaveLength(passes);
      expect(runs.find((r) => r.id !== pass.runId)).toMatchObject({ startedBy: 'operator' });
    },
  );

  it('ends when the line stops: no run starts, and the port is let go', async () => {
    const { device, store, restart } = await boardPassedThenLineStopped();
    const restarted = await restart('auto', { timeoutScale: 20 });
    const ran = vi.spyOn(Slot.prototype, 'run');
    const { result } = await startWithCheckStalled(restarted, device, 'INFO');

    // stop() waits for the check: it must end it, not sit out INFO's 30 s.
    await restarted.stop();
    expect(ran).not.toHaveBeenCalled();
    expect(store.runs({})).toHaveLength(1);
    expect(await within(1_000, result)).toBe(false);
    // The check's session is closed: the tty's exclusive lock is free for the next opener.
    device.faults.clearStall();
    expect(await within(5_000, identifies(device))).toBe(device.serialNumber);
  });

  it('ends when the operator presses Cancel: no run, and the card offers Provision', async () => {
    const { device, store, restart } = await boardPassedThenLineStopped();
    const restarted = await restart('auto', { timeoutScale: 20 });
    const { result } = await startWithCheckStalled(restarted, device, 'INFO');

    const shown = slotReaches(restarted.onSlotChanged, 1, 'cancelled');
    restarted.cancel(1);
    expect(await within(5_000, result)).toBe(false);
    device.faults.clearStall();
    expect(await within(5_000, shown)).toMatchObject({
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED', detail: 'the operator cancelled the check of the device' },
    });
    expect(store.runs({})).toHaveLength(1);

    // Provision then runs the board, as after a cancelled run.
    const ended = nextRunEnd(restarted, 10_000);
    restarted.provision(1);
    expect(codeOf(await ended)).toBe('RUN_DUPLICATE_DEVICE');
  });

  it('shows no PASS when the port went while the board answered', async () => {
    const { device, port, store, restart } = await boardPassedThenLineStopped('refuse', true);
    const restarted = await restart('auto');
    const views = viewsOf(restarted);
    // INFO answers; GET_CONFIG's answer is lost, and its re-send after 1 s is answered.
    const { result } = await startWithCheckStalled(restarted, device, 'GET_CONFIG');

    // udev removes the by-id link (the tty itself never hangs up): the port is gone.
    await rm(port);
    await restarted.rescan();
    expect(restarted.slots()[0]).toMatchObject({ state: 'empty' });
    device.faults.clearStall();
    expect(await within(10_000, result)).toBe(false);
    expect(views.filter((view) => view.state === 'pass')).toEqual([]);
    expect(restarted.slots()[0]).toMatchObject({ state: 'empty' });
    expect(store.runs({})).toHaveLength(1);
  });

  it('arms a wiped board when switched to manual meanwhile: auto mode again runs it', async () => {
    const { device, store, pass, restart } = await boardPassedThenLineStopped('reprovision');
    await factoryReset(device.hostPath);
    const restarted = await restart('auto');
    const views = viewsOf(restarted);
    const ran = vi.spyOn(Slot.prototype, 'run');
    const { result } = await startWithCheckStalled(restarted, device, 'INFO');

    restarted.setMode('manual');
    device.faults.clearStall(); // INFO's re-send, 500 ms on, is answered: a board with no identity
    expect(await within(10_000, result)).toBe(true);
    expect(ran).not.toHaveBeenCalled(); // manual: nothing runs by itself
    expect(restarted.slots()[0]).toMatchObject({ state: 'waiting' });

    const run = nextRunEnd(restarted, 10_000);
    restarted.setMode('auto');
    const ended: RunEnded | undefined = await run;
    expect(codeOf(ended)).toBe('PASS');
    expect(showsRestored(views, pass)).toBe(false);
    const runs = store.runs({ serialNumber: device.serialNumber });
    expect(runs.map((r) => [r.state, r.startedBy])).toEqual([
      ['pass', 'auto'],
      ['pass', 'auto'],
    ]);
  });

  it("takes the operator's Provision as the check lets the port go, not LINE_SLOT_BUSY", async () => {
    const { device, store, restart } = await boardPassedThenLineStopped('reprovision');
    await factoryReset(device.hostPath); // not the board that passed: the check lets its link go
    const restarted = await restart('manual');
    // Provision pressed in the moment the check has its answer and is closing the link.
    let pressed: string | undefined;
    const drop = Slot.prototype.dropSession;
    vi.spyOn(Slot.prototype, 'dropSession').mockImplementation(function (this: Slot) {
      if (pressed === undefined && this.isRunning) {
        try {
          restarted.provision(1);
          pressed = 'taken';
        } catch (err) {
          pressed = (err as { code?: string }).code ?? String(err);
        }
      }
      return drop.call(this);
    });
    const ended = nextRunEnd(restarted, 10_000);
    await restarted.start();

    const run = await ended;
    expect(pressed).toBe('taken');
    expect(codeOf(run)).toBe('PASS');
    const runs = store.runs({ serialNumber: device.serialNumber });
    // Newest first: the operator's run, then the PASS before the restart.
    expect(runs.map((r) => [r.state, r.startedBy])).toEqual([
      ['pass', 'operator'],
      ['pass', 'auto'],
    ]);
  });

  it('started in manual mode: shows the PASS too, not a Provision button, and runs nothing', async () => {
    const { device, store, pass, restart } = await boardPassedThenLineStopped();
    const restarted = await restart('manual');
    const checked = vi.spyOn(Slot.prototype, 'confirmEarlierPass');
    let requests = 0;
    device.onRequest.on(() => requests++);
    const shown = within(10_000, slotReaches(restarted.onSlotChanged, 1, 'pass'));
    await restarted.start();
    expect(await shown).toMatchObject({ runId: pass.runId, serialNumber: device.serialNumber });
    expect(checked).toHaveBeenCalledTimes(1);
    expect(requests).toBe(3); // INFO, GET_CONFIG and SIGN_CHALLENGE, by the check: reads only

    // Auto mode then starts nothing on it: the board is done.
    restarted.setMode('auto');
    expect(checked).toHaveBeenCalledTimes(1);
    expect(restarted.slots()[0]).toMatchObject({ state: 'pass', runId: pass.runId });
    expect(store.runs({})).toHaveLength(1);
  });

  it('asks a board whose port appears only after the start (a USB adapter late to enumerate)', async () => {
    const { device, port, store, pass } = await boardPassedThenLineStopped('refuse', true);
    await rm(port);
    line = await testLine({
      ca: demoCa!.ca,
      profile: testProfile({ duplicates: 'refuse' }),
      recorder: store,
      ports: { configured: [port], discover: false, baudRate: 0, pollMs: 50 },
      mode: 'auto',
    });
    const shown = within(10_000, slotReaches(line.onSlotChanged, 1, 'pass'));
    await line.start();
    expect(line.slots()[0]).toMatchObject({ state: 'empty' });
    await byIdLink(dir!, device.hostPath); // the adapter enumerates, the same board behind it
    expect(await shown).toMatchObject({ runId: pass.runId, serialNumber: device.serialNumber });
    expect(store.runs({})).toHaveLength(1);
  });
});
