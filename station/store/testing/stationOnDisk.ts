/**
 * A station's store and CA on real files, wired as productionStation.ts wires a running line
 * (tests only): the database in a throw-away data folder, the CA's ledger and the line's
 * recorder in it waiting out locks on a timer, the connection giving up on a lock at once.
 * Removed by `dispose`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { initStationCa } from '../../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../../certs/stationCa.js';
import { CertificateLedger } from '../certificateLedger.js';
import { LockWaitingLedger } from '../lockWaitingLedger.js';
import { LockWaitingRecorder } from '../lockWaitingRecorder.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { closeStationDatabase, openStationDatabase } from '../stationDatabase.js';
import { stopBlockingOnLocks, type StoreLockWait } from '../storeLockWait.js';

export interface StationOnDisk {
  dir: string;
  /** The database file, for another program to lock. */
  path: string;
  db: Database.Database;
  /** The store under the line's recorder: where a test writes, reads and watches refusals. */
  store: ProvisioningStore;
  /** The recorder a line on this station is given, waiting out locks on `store`. */
  recorder: LockWaitingRecorder;
  /** The ledger under the CA's lock-waiting one: where a test watches what it refuses. */
  ledger: CertificateLedger;
  /** The station CA, unlocked, recording into `ledger`. */
  ca: StationCa;
  dispose(): Promise<void>;
}

/** @param options.under the folder to make the data folder in (a small disk); the temp folder. */
export async function stationOnDisk(
  options: { lockWait?: StoreLockWait; under?: string } = {},
): Promise<StationOnDisk> {
  const dir = await mkdtemp(join(options.under ?? tmpdir(), 'line-station-on-disk-'));
  const wrapper = new PassphraseKeyWrapper(randomBytes(12).toString('hex'), {
    scrypt: { N: 2 ** 10, r: 8, p: 1 },
  });
  await initStationCa(join(dir, 'ca'), { name: 'Line Station DISK TEST', wrapper });
  const path = join(dir, 'station.db');
  const db = openStationDatabase(path, { requireWritable: true });
  stopBlockingOnLocks(db);
  const ledger = new CertificateLedger(db);
  const ca = await StationCa.open(join(dir, 'ca'), new LockWaitingLedger(ledger, options.lockWait));
  await ca.unlock(wrapper);
  const store = new ProvisioningStore(db);
  return {
    dir,
    path,
    db,
    store,
    recorder: new LockWaitingRecorder(store, options.lockWait),
    ledger,
    ca,
    async dispose() {
      ca.lock();
      if (db.open) closeStationDatabase(db);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
