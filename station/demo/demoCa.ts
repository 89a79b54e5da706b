import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import { CertificateLedger } from '../store/certificateLedger.js';
import { openStationDatabase } from '../store/stationDatabase.js';

export interface DemoCa {
  ca: StationCa;
  ledger: CertificateLedger;
  /**
   * The in-memory station database the ledger writes to. A store for the DEMO line must use the
   * same database: committing a PASS checks the certificate the CA recorded there.
   */
  db: Database.Database;
  /** Locks the DEMO CA and closes its database. */
  dispose(): Promise<void>;
}

/**
 * A DEMO CA: the real station CA (sealed key, CSR checks, template issuance, ledger), made in a
 * throw-away directory and held in memory, unlocked with a random passphrase that exists only in this process.
 * Nothing it issues is trusted anywhere; its name says DEMO.
 */
export async function createDemoCa(name = 'Line Station DEMO'): Promise<DemoCa> {
  // The CA's files are needed only to open and unlock it: the CA keeps its certificates and
  // sealed key in memory from then on. Removed at once, they are not left behind by a station
  // stopped without cleaning up (a kill, a crash, a closed terminal), one folder per start.
  const dir = await mkdtemp(join(tmpdir(), 'line-station-demo-ca-'));
  const db = openStationDatabase(':memory:');
  let ca: StationCa;
  let ledger: CertificateLedger;
  try {
    const wrapper = new PassphraseKeyWrapper(randomBytes(24).toString('base64'));
    await initStationCa(join(dir, 'ca'), { name, wrapper });
    ledger = new CertificateLedger(db);
    ca = await StationCa.open(join(dir, 'ca'), ledger);
    await ca.unlock(wrapper);
  } catch (err) {
    db.close();
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    ca,
    ledger,
    db,
    dispose() {
      ca.lock();
      db.close();
      return Promise.resolve();
    },
  };
}
