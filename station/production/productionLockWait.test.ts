/**
 * The production wiring, not the engine, decides that a run waits out another program's lock
 * on the station database: openProductionStation hands the line its store through
 * LockWaitingRecorder, after turning SQLite's own wait off (stopBlockingOnLocks). Without that
 * wrap every run started while a supervisor's command or `sqlite3` holds the database fails
 * STORE_BUSY at once, though the lock goes a moment later. Real parts: a data folder with a
 * sealed CA and a profiles file, the station database on disk, the lock held by a real `sqlite3`
 * process, a simulated board on a real pty.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { stationPaths } from '../cli/dataDir.js';
import { codeOf, nextEvent } from '../line/testing/lineTestKit.js';
import { isStoreBusy } from '../store/storeError.js';
import { endLockHolders, holdWriteLock } from '../store/testing/sqliteLockHolder.js';
import { openProductionStation, type ProductionStation } from './productionStation.js';
import { productionDataFolder } from './testing/productionDataFolder.js';

const PASSPHRASE = 'lock wait line passphrase';

let dataDir: string | undefined;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;
afterEach(async () => {
  await station?.stop();
  await endLockHolders();
  await simulator?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  vi.restoreAllMocks();
  dataDir = simulator = station = undefined;
});

describe('a production station while another program holds its database', () => {
  it('waits for the lock and passes the board once it goes, not STORE_BUSY', async () => {
    const folder = await productionDataFolder('ls-production-lock-', PASSPHRASE, 'Lock Wait TEST');
    dataDir = folder.dataDir;
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const [device] = simulator.devices;
    station = await openProductionStation({
      dataDir,
      profilesFile: folder.profilesFile,
      ports: [device!.hostPath],
      discover: false,
      baudRate: 0,
      mode: 'manual',
      passphrase: PASSPHRASE,
      log: () => undefined,
    });
    // Each time the store refuses to open the run under the lock (the station's own refusal,
    // busy_timeout 0): a run that waits is refused again and again until the lock goes.
    let refusals = 0;
    let refusedTwice!: () => void;
    const waited = new Promise<'waited'>((resolve) => (refusedTwice = () => resolve('waited')));
    const store = station.store;
    const beginRun = store.beginRun.bind(store);
    vi.spyOn(store, 'beginRun').mockImplementation((...args) => {
      try {
        return beginRun(...args);
      } catch (err) {
        if (isStoreBusy(err) && ++refusals === 2) refusedTwice();
        throw err;
      }
    });

    const lock = await holdWriteLock(stationPaths(dataDir).database);
    const ended = nextEvent(station.line.onRunEnded);
    station.line.provision(1);
    // A run that waits is refused a second time; one that does not wait has ended by then.
    const first = await Promise.race([waited, ended.then(() => 'ended' as const)]);
    await lock.release();

    const run = await ended;
    expect(codeOf(run)).toBe('PASS');
    expect(first).toBe('waited');
    expect(station.store.runs().map((r) => r.state)).toEqual(['pass']);
    expect(device!.state.committed.certChain).toBeDefined();
  }, 30_000);
});
