import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';
import { checkedCaPassphrase } from './caPassphrase.js';

const PASSPHRASE = 'the supervisor passphrase';
const WRONG = 'a guess at the passphrase';
const asker = { command: 'sync set-connection', actor: 'supervisor:ann' } as const;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ca-passphrase-'));
  await initStationCa(join(root, 'ca'), {
    name: 'Refusals TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
}, 30_000);
beforeEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(join(root, 'station.db'), { recursive: true, force: true });
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function refusals(): ReturnType<ProvisioningStore['audit']> {
  const db = openStationDatabaseToRead(join(root, 'station.db'));
  try {
    return new ProvisioningStore(db).audit('ca.passphrase-refused');
  } finally {
    db.close();
  }
}

describe('checkedCaPassphrase with the command that asks', () => {
  it('records a wrong passphrase (ca.passphrase-refused) before it refuses, and a right one not', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', WRONG);
    await expect(checkedCaPassphrase(root, { refusal: asker })).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(refusals()).toEqual([
      expect.objectContaining({
        actor: 'supervisor:ann',
        subject: 'ca',
        detail: { command: 'sync set-connection', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
    ]);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    await checkedCaPassphrase(root, { refusal: asker });
    expect(refusals()).toHaveLength(1);
  });

  it('still refuses the passphrase when the trail cannot take the event, and says so', async () => {
    // A folder where the database should be: nothing can be written there.
    mkdirSync(join(root, 'station.db'));
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', WRONG);
    await expect(checkedCaPassphrase(root, { refusal: asker })).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(errors.join('\n')).toMatch(
      /^note: the wrong passphrase was not written to the audit trail: .+ \[STORE_[A-Z_]+\]$/,
    );
    expect(errors.join('\n')).not.toContain(WRONG);
  });
});
