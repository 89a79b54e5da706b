/**
 * A device that answers COMMIT with an error of its own has given a definite answer: it kept
 * its previous identity (PROTOCOL.md §4, §7), so the run fails with the device's code and
 * advice, not as unconfirmed. Real parts: a simulated device on a real pty whose flash write
 * fails for real (its flash folder is gone), the store and the CA's ledger on real files.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { operatorTextFor } from '../../firmware-bridge/codec/wireErrors.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { Line } from './line.js';
import { nextRunEnd, testLine } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let station: StationOnDisk | undefined;
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  await station?.dispose();
  line = simulator = station = undefined;
});

describe('a device that refuses COMMIT', () => {
  it('fails the run with its own DEVICE_STORAGE, records nothing to send and abandons the certificate', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    // Only COMMIT writes the device's flash: without its folder that write fails, and the
    // device answers STORAGE with its committed bank untouched.
    await rm(simulator.stateDir, { recursive: true, force: true });
    station = await stationOnDisk();
    line = await testLine({
      ca: station.ca,
      recorder: station.recorder,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();
    const commitAsked = new Promise<void>((resolve) => {
      device.onRequest.on(({ name }) => name === 'COMMIT' && resolve());
    });
    const ended = nextRunEnd(line);
    line.provision(1);
    const run = await ended;
    await commitAsked;

    expect(run?.outcome).toMatchObject({
      state: 'fail',
      error: { code: 'DEVICE_STORAGE', message: operatorTextFor('DEVICE_STORAGE') },
    });
    expect(line.slots()[0]).toMatchObject({ state: 'fail', error: { code: 'DEVICE_STORAGE' } });
    if (run?.outcome.state !== 'fail') return;
    expect(station.store.run(run.outcome.runId!)).toMatchObject({
      state: 'fail',
      error: { code: 'DEVICE_STORAGE' },
    });
    expect(station.store.listOutbox()).toEqual([]);
    const serial = run.outcome.certificateSerial;
    expect(serial).toMatch(/^[0-9a-f]+$/);
    expect(station.ledger.get(serial!)?.status).toBe('abandoned');
    // What the failure says is what the device holds: its previous (empty) identity.
    expect(device.state.identityState).toBe(0);
    expect(device.state.committed.config).toEqual({});
  });
});
