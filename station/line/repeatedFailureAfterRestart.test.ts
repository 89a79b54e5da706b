/**
 * A station restarted while a device keeps failing (a crash, a restart at the shift change)
 * does not give it three more runs: the slot's first failure of the device asks the store how
 * many runs of it failed in a row before. Real pty, real SQLite store; the device fails after
 * IDENTIFY (its firmware is not one the profile allows), so the failures name it.
 */
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import type { Line, RunEnded } from './line.js';
import type { RunStarter } from './runRecorder.js';
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
  const device = await startDevice();
  db = openStationDatabase(':memory:');
  const store = new ProvisioningStore(db);
  for (const startedBy of earlier) {
    // What the station before the restart recorded of this device on this port.
    const runId = store.beginRun(device.hostPath, profile.name, Date.now() - 60_000, startedBy);
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'RUN_FIRMWARE_NOT_ALLOWED', message: 'not allowed' },
      device: { serialNumber: device.serialNumber, model: 'LS-DEMO-1' },
      steps: [],
      finishedAt: Date.now() - 59_000,
    });
  }
  line = await testLine({
    profile,
    recorder: store,
    ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    mode: 'auto',
  });
  const ended = within<RunEnded>(15_000, nextEvent(line.onRunEnded));
  await line.start();
  expect((await ended)?.outcome).toMatchObject({ error: { code: 'RUN_FIRMWARE_NOT_ALLOWED' } });
  const latest = store.runs({ limit: 1 })[0];
  expect(latest?.startedBy).toBe('auto');
  return line.slots()[0]?.error?.code;
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
