/**
 * A station restarted while a device keeps failing (a crash, a restart at the shift change)
 * does not give it three more runs: the slot's first failure of the device asks the store how
 * many runs of it failed in a row before. A board the slot held when the station stopped gets
 * none: the restarted line asks who is on the port and holds it again (PortsAtStart). Real pty, real SQLite store; the device fails after
 * IDENTIFY (its firmware is not one the profile allows), so the failures name it.
 */
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import type { Line, LineOptions, RunEnded } from './line.js';
import type { RunStarter } from './runRecorder.js';
import { Slot } from './slot.js';
import {
  nextEvent,
  oneSimulatedDevicePerTest,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';

const startDevice = oneSimulatedDevicePerTest();
let line: Line | undefined;
let db: Database.Database | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  db?.close();
  line = undefined;
  db = undefined;
});

const profile = testProfile({ firmwareVersions: ['9.9.9'] });

/**
 * The code the slot shows after the line's first run, in auto mode, on a store with a failure
 * per entry of `earlier` (oldest first), each started as the entry says.
 */
async function firstRunAfterStart(earlier: RunStarter[]): Promise<string | undefined> {
  const {
    store,
    ended,
    line: started,
  } = await startAfterFailures((device) => device.serialNumber, earlier);
  expect((await ended)?.outcome).toMatchObject({ error: { code: 'RUN_FIRMWARE_NOT_ALLOWED' } });
  const latest = store.runs({ limit: 1 })[0];
  expect(latest?.startedBy).toBe('auto');
  return started.slots()[0]?.error?.code;
}

/**
 * A device on one port, a store holding `earlier` failures there of the board `heldSerial`
 * names, and an auto line started on it: the restart, and its first run's end (15 s at most).
 */
async function startAfterFailures(
  heldSerial: (device: SimulatedDevice) => string,
  earlier: RunStarter[],
) {
  const device = await startDevice();
  db = openStationDatabase(':memory:');
  const store = new ProvisioningStore(db);
  recordFailures(store, device.hostPath, heldSerial(device), earlier);
  const started = (line = await testLine({
    profile,
    recorder: store,
    ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    mode: 'auto',
  }));
  const ended = within<RunEnded>(15_000, nextEvent(started.onRunEnded));
  await started.start();
  return { device, store, ended, line: started };
}

/**
 * What the station before the restart recorded on `port`: a failure of board `serialNumber` per
 * entry of `startedBy` (oldest first), each started as the entry says.
 */
function recordFailures(
  store: ProvisioningStore,
  port: string,
  serialNumber: string,
  startedBy: RunStarter[],
): void {
  for (const starter of startedBy) {
    const runId = store.beginRun(port, profile.name, Date.now() - 60_000, starter);
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'RUN_FIRMWARE_NOT_ALLOWED', message: 'not allowed' },
      device: { serialNumber, model: 'LS-DEMO-1' },
      steps: [],
      finishedAt: Date.now() - 59_000,
    });
  }
}

describe('a device that kept failing before the station restarted', () => {
  it('is held at its first failure after the restart when two came before it', async () => {
    expect(await firstRunAfterStart(['auto', 'auto'])).toBe('RUN_REPEATED_FAILURE');
  });

  it('is shown with its own error when fewer came before it', async () => {
    expect(await firstRunAfterStart(['auto'])).toBe('RUN_FIRMWARE_NOT_ALLOWED');
  });

  it("counts from the operator's Provision before the restart, not from the failures before it", async () => {
    expect(await firstRunAfterStart(['auto', 'auto', 'auto', 'operator'])).toBe(
      'RUN_FIRMWARE_NOT_ALLOWED',
    );
  });
});

describe('who started a run', () => {
  it('is recorded: the operator for a Provision press', async () => {
    const device = await startDevice();
    db = openStationDatabase(':memory:');
    const store = new ProvisioningStore(db);
    line = await testLine({
      profile,
      recorder: store,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'manual',
    });
    await line.start();
    const ended = within<RunEnded>(15_000, nextEvent(line.onRunEnded));
    line.provision(1);
    await ended;
    expect(store.runs().map((run) => run.startedBy)).toEqual(['operator']);
  });
});

describe('a board held when the station stopped', () => {
  /** The slot's next view that shows its hold. */
  const nextHold = (started: Line) =>
    within(
      15_000,
      nextEvent(started.onSlotChanged, (view) => view.error?.code === 'RUN_REPEATED_FAILURE'),
    );

  /**
   * A line on `store` whose slot held `device` and then stopped: the store held two failures of
   * it, and the line's own first run was the third. Returns the options to start it again with.
   */
  async function heldThenStopped(device: SimulatedDevice, store: ProvisioningStore) {
    recordFailures(store, device.hostPath, device.serialNumber, ['auto', 'auto']);
    const options: Partial<LineOptions> = {
      profile,
      recorder: store,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'auto',
    };
    line = await testLine(options);
    const held = nextHold(line);
    await line.start();
    expect(await held).toMatchObject({ serialNumber: device.serialNumber });
    await line.stop();
    return options;
  }

  it('is held again at the restart while it is still on the port: asked who it is, never run', async () => {
    const device = await startDevice();
    db = openStationDatabase(':memory:');
    const store = new ProvisioningStore(db);
    const options = await heldThenStopped(device, store);
    const lastRun = store.runs({ limit: 1 })[0]!;
    line = await testLine(options);
    const ran = vi.spyOn(Slot.prototype, 'run');
    const rechecked = vi.spyOn(Slot.prototype, 'recheck');
    const held = nextHold(line);
    await line.start();

    expect(await held).toMatchObject({ state: 'fail', serialNumber: device.serialNumber });
    expect(rechecked).toHaveBeenCalledTimes(1);
    expect(await within(10_000, rechecked.mock.results[0]!.value as Promise<boolean>)).toBe(false);
    expect(line.slots()[0]).toMatchObject({
      state: 'fail',
      runId: lastRun.id,
      error: {
        code: 'RUN_REPEATED_FAILURE',
        message: expect.stringContaining('Last failure (RUN_FIRMWARE_NOT_ALLOWED)'),
      },
    });
    expect(ran).not.toHaveBeenCalled();
    expect(store.runs({})).toHaveLength(3);

    // The operator's Provision is the check the hold asks for: the board runs.
    const ended = within<RunEnded>(15_000, nextEvent(line.onRunEnded));
    line.provision(1);
    expect((await ended)?.outcome).toMatchObject({ error: { code: 'RUN_FIRMWARE_NOT_ALLOWED' } });
    expect(store.runs({ limit: 1 })[0]).toMatchObject({ startedBy: 'operator' });
  });

  it('is no hold on another board plugged there while the station was down: that board runs', async () => {
    const rechecked = vi.spyOn(Slot.prototype, 'recheck');
    // The board held on this port before the stop was taken away; this one was plugged instead.
    const {
      device,
      ended,
      line: started,
    } = await startAfterFailures(() => 'SIM-SET-ASIDE', ['auto', 'auto', 'auto']);

    expect((await ended)?.outcome).toMatchObject({
      device: { serialNumber: device.serialNumber },
      error: { code: 'RUN_FIRMWARE_NOT_ALLOWED' },
    });
    expect(rechecked).toHaveBeenCalledTimes(1); // the hold was restored, and this board ended it
    expect(started.slots()[0]?.error?.code).toBe('RUN_FIRMWARE_NOT_ALLOWED');
  });
});
