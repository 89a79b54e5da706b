import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { groupKeyFile } from '../production/groupKeys.js';
import { AuditLog } from '../store/auditLog.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';
import { GROUP_KEY_FINGERPRINT_LABEL, keys } from './keysCommand.js';

const PASSPHRASE = 'the station passphrase';
const KEY = randomBytes(32).toString('base64');
let dataDir: string;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keys-command-'));
  // Cheap scrypt: the test is about which passphrase seals, not about its cost.
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Keys test',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
  });
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.stubEnv('LINE_STATION_GROUP_KEY', KEY);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('station keys set-group', () => {
  it('seals the group key under the CA passphrase, and refuses one that does not open the CA', async () => {
    const setGroup = () => keys(['set-group', '--group', 'line3', '--data-dir', dataDir]);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', `${PASSPHRASE}!`);
    await expect(setGroup()).rejects.toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    expect(existsSync(groupKeyFile(dataDir, 'line3'))).toBe(false);
    // Nothing stored, nothing recorded: the database is not even made.
    expect(existsSync(join(dataDir, 'station.db'))).toBe(false);

    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    expect(await setGroup()).toBe(0);
    expect(readFileSync(groupKeyFile(dataDir, 'line3'), 'utf8')).not.toContain(KEY);
  });

  it('records who stored which key in the audit trail, by its fingerprint and never the key', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    const setGroup = ['set-group', '--group', 'Line3', '--by', 'sam', '--data-dir', dataDir];
    expect(await keys(setGroup)).toBe(0);
    expect(await keys(setGroup)).toBe(0);
    const db = openStationDatabaseToRead(join(dataDir, 'station.db'));
    let events;
    try {
      events = new AuditLog(db).list('group-key.stored');
    } finally {
      db.close();
    }
    const keyFingerprint = createHash('sha256')
      .update(GROUP_KEY_FINGERPRINT_LABEL)
      .update(Buffer.from(KEY, 'base64'))
      .digest('hex');
    // Never the key's plain SHA-256 (HMAC's stand-in for a long key), never the key.
    const plain = createHash('sha256').update(Buffer.from(KEY, 'base64')).digest('hex');
    expect(events).toMatchObject([
      {
        actor: 'supervisor:sam',
        subject: 'group:line3',
        detail: { replaced: true, keyFingerprint },
      },
      { detail: { enrollmentGroupId: 'Line3', replaced: false, keyFingerprint } },
    ]);
    const trail = JSON.stringify(events);
    expect(trail).not.toContain(KEY);
    expect(trail).not.toContain(plain);
    expect(trail).not.toContain(Buffer.from(KEY, 'base64').toString('hex'));
    expect(trail).not.toContain(PASSPHRASE);
  });
});
