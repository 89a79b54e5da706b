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
  /** Removes the DEMO CA's directory and closes its database. */
  dispose(): Promise<void>;
}

/**
 * A DEMO CA: the real station CA (sealed key, CSR checks, template issuance, ledger) in a
 * throw-away directory, unlocked with a random passphrase that exists only in this process.
 * Nothing it issues is trusted anywhere; its name says DEMO.
 */
export async function createDemoCa(name = 'Line Station DEMO'): Promise<DemoCa> {
  const dir = await mkdtemp(join(tmpdir(), 'line-station-demo-ca-'));
  const wrapper = new PassphraseKeyWrapper(randomBytes(24).toString('base64'));
  await initStationCa(join(dir, 'ca'), { name, wrapper });
  const db = openStationDatabase(':memory:');
  const ledger = new CertificateLedger(db);
  const ca = await StationCa.open(join(dir, 'ca'), ledger);
  await ca.unlock(wrapper);
  return {
    ca,
    ledger,
    db,
    async dispose() {
      ca.lock();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
