import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { DpsConnectionString } from '../../dps/auth/connectionString.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { InMemoryDps } from '../sync/testing/inMemoryDps.js';
import { syncCommand } from './syncCommand.js';

let dataDir: string;
let output: string[];
const key = randomBytes(32).toString('base64');
const dps = new InMemoryDps();
const opened: DpsConnectionString[] = [];
const sync = syncCommand((cs) => {
  opened.push(cs);
  return dps;
});

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sync-command-'));
  // The CA whose passphrase seals the connection (cheap scrypt: the test is not about it).
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Sync test',
    wrapper: new PassphraseKeyWrapper('the station passphrase', { scrypt: { N: 1024 } }),
  });
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void output.push(line));
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'the station passphrase');
  vi.stubEnv(
    'LINE_STATION_DPS_CONNECTION',
    `HostName=line7.azure-devices-provisioning.net;SharedAccessKeyName=owner;SharedAccessKey=${key}`,
  );
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

function provision(serial: string): void {
  const db = openStationDatabase(join(dataDir, 'station.db'));
  const store = new ProvisioningStore(db);
  const record = passedRun(store.beginRun('/dev/ttyUSB0', 'line7', 1_000), serial);
  recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
  store.commitPass(record);
  db.close();
}

describe('station sync', () => {
  it('stores the connection sealed, reports it without the key, and drains the outbox', async () => {
    expect(await sync(['status', '--data-dir', dataDir])).toBe(0);
    expect(output).toContain('DPS connection: not set (station sync set-connection)');

    expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
    expect(output.at(-1)).toMatch(/line7\.azure-devices-provisioning\.net \(policy owner\)/);
    expect(readFileSync(join(dataDir, 'dps', 'connection.sealed.json'), 'utf8')).not.toContain(key);

    provision('SN1');
    provision('SN2');
    expect(await sync(['now', '--data-dir', dataDir])).toBe(0);
    expect(opened).toEqual([
      {
        hostName: 'line7.azure-devices-provisioning.net',
        sharedAccessKeyName: 'owner',
        sharedAccessKey: key,
      },
    ]);
    expect(dps.size).toBe(2);
    expect(output.at(-1)).toMatch(/0 pending, 2 synced, 0 failed, 0 conflict/);

    expect(await sync(['status', '--data-dir', dataDir])).toBe(0);
    expect(output.join('\n')).not.toContain(key);
    expect(await sync(['bogus'])).toBe(2);
  });

  it('refuses to seal the connection under a passphrase that does not open the CA', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'the station passphrasE');
    await expect(sync(['set-connection', '--data-dir', dataDir])).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(existsSync(join(dataDir, 'dps', 'connection.sealed.json'))).toBe(false);
  });
});
