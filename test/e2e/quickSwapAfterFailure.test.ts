/**
 * A real line (CA sealed under a passphrase, profiles file, file store, the default 1 s port
 * poll) in auto mode: a device fails, and the technician swaps it for the next one faster than
 * the poll can see the port go. The station must hear the failed device's tty hang up and run
 * the next device by itself, as it does after a PASS.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { nextRunEnd } from '../../station/line/testing/lineTestKit.js';
import type { ProductionStation } from '../../station/production/productionStation.js';
import { makeRealLineFolder, stationOnByIdLink } from './realLineFolder.js';

const PASSPHRASE = 'line four passphrase';

let dataDir: string;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

beforeEach(async () => {
  ({ dataDir } = await makeRealLineFolder(4, PASSPHRASE));
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
  station = undefined;
  simulator = undefined;
});

describe('a real line in auto mode, a failed device swapped within one poll', () => {
  it('runs the next device by itself and records both runs', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [hung, next] = simulator.devices;
    hung!.faults.stall('forever'); // firmware that answers nothing: INFO times out
    // On the by-id link udev keeps for the fixture's USB adapter: one name for every device.
    const link = await stationOnByIdLink(dataDir, PASSPHRASE, hung!.hostPath);
    station = link.station;
    const { port } = link;
    const failed = nextRunEnd(station!.line, 10_000);
    station.line.setMode('auto');
    expect((await failed)?.outcome).toMatchObject({ error: { code: 'WIRE_TIMEOUT' } });

    // The next device is in before any poll can see the port go: the link is replaced in one
    // rename as soon as the old device is out.
    await hung!.faults.unplug();
    await link.point(next!.hostPath);
    const second = await nextRunEnd(station!.line, 10_000);
    expect(second?.outcome).toMatchObject({ state: 'pass' });

    // The hung device never said who it is; the run on the next one is its own, on the same port.
    const runs = station.store.runs().sort((a, b) => a.id - b.id);
    expect(runs.map((r) => [r.port, r.state, r.serialNumber, r.error?.code])).toEqual([
      [port, 'fail', null, 'WIRE_TIMEOUT'],
      [port, 'pass', next!.serialNumber, undefined],
    ]);
  });
});
