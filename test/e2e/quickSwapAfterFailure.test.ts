/**
 * A real line (CA sealed under a passphrase, profiles file, file store, the default 1 s port
 * poll) in auto mode: a device fails, and the technician swaps it for the next one faster than
 * the poll can see the port go. The station must hear the failed device's tty hang up and run
 * the next device by itself, as it does after a PASS.
 */
import { rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { nextRunEnd } from '../../station/line/testing/lineTestKit.js';
import {
  openProductionStation,
  type ProductionStation,
} from '../../station/production/productionStation.js';
import { makeRealLineFolder } from './realLineFolder.js';

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
    // The by-id link udev keeps for the fixture's USB adapter: the same name for every device.
    const port = join(dataDir, 'usb-LS_DEMO-if00');
    await symlink(hung!.hostPath, port);
    station = await openProductionStation({
      dataDir,
      profilesFile: join(dataDir, 'profiles.json'),
      ports: [port],
      discover: false,
      baudRate: 0,
      mode: 'manual',
      passphrase: PASSPHRASE,
      log: () => undefined,
    });
    const failed = nextRunEnd(station!.line, 10_000);
    station.line.setMode('auto');
    expect((await failed)?.outcome).toMatchObject({ error: { code: 'WIRE_TIMEOUT' } });

    // The next device is in before any poll can see the port go: the link is replaced in one
    // rename as soon as the old device is out.
    await symlink(next!.hostPath, `${port}.new`);
    await hung!.faults.unplug();
    await rename(`${port}.new`, port);
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
