/**
 * A station stopped while the sync worker waits on DPS (a network that swallows packets: no
 * answer, no refusal) stops at once instead of waiting out the call's 30 s timeout, and the row
 * whose call was cut is read back from DPS at the next start, never taken as sent or not.
 * Real parts: a data folder with a sealed CA and a stored DPS connection, the station database
 * on disk, a loopback HTTPS server standing in for DPS, a simulated board on a real pty.
 */
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServiceFixture, type ServiceFixture } from '../../dps/testing/serviceFixture.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { stationPaths } from '../cli/dataDir.js';
import { codeOf, nextEvent } from '../line/testing/lineTestKit.js';
import { saveDpsConnectionString } from '../sync/dpsCredentials.js';
import { DPS_CA_ENV } from './dpsConnection.js';
import { openProductionStation, type ProductionStation } from './productionStation.js';
import { productionDataFolder } from './testing/productionDataFolder.js';

const PASSPHRASE = 'stop with a call in flight';

let dataDir: string | undefined;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;
let fx: ServiceFixture | undefined;
afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await fx?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  vi.unstubAllEnvs();
  dataDir = simulator = station = fx = undefined;
});

describe('stopping a station while a DPS call hangs', () => {
  it('cuts the call, stops at once, and leaves the row to be read back from DPS', async () => {
    const folder = await productionDataFolder('ls-stop-in-flight-', PASSPHRASE, 'Stop TEST');
    const { profilesFile, wrapper } = folder;
    dataDir = folder.dataDir;
    // DPS takes the connection and the request, and never answers.
    fx = await startServiceFixture();
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    fx.server.handle(() => arrived());
    writeFileSync(join(dataDir, 'dps-ca.pem'), fx.tls.caPem);
    vi.stubEnv(DPS_CA_ENV, join(dataDir, 'dps-ca.pem'));
    await saveDpsConnectionString(dataDir, fx.connectionString, wrapper);

    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    station = await openProductionStation({
      dataDir,
      profilesFile,
      ports: [simulator.devices[0]!.hostPath],
      discover: false,
      baudRate: 0,
      mode: 'manual',
      passphrase: PASSPHRASE,
      log: () => undefined,
    });
    const ended = nextEvent(station.line.onRunEnded);
    station.line.provision(1);
    expect(codeOf(await ended)).toBe('PASS');
    await requestArrived;

    const stopping = station.stop();
    station = undefined;
    await stopping;

    const db = new Database(stationPaths(dataDir).database, { readonly: true });
    try {
      expect(
        db.prepare(`SELECT status, needs_reconcile AS reconcile FROM enrollments`).all(),
      ).toEqual([{ status: 'pending', reconcile: 1 }]);
    } finally {
      db.close();
    }
    // Bounded below the client's 30 s timeout: a stop that waited it out fails here.
  }, 15_000);
});
