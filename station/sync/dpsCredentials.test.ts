import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealSecret } from '../../certs/custody/secretBox.js';
import {
  dpsConnectionFile,
  hasDpsConnection,
  loadDpsConnectionString,
  saveDpsConnectionString,
} from './dpsCredentials.js';

let dataDir: string;
const wrapper = new PassphraseKeyWrapper('supervisor passphrase', { scrypt: { N: 1024 } });
const key = randomBytes(32).toString('base64');
const connection = `HostName=line7-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${key}`;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'dps-credentials-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('DPS connection string custody', () => {
  it('seals the connection string: the file holds neither the key nor the string', async () => {
    expect(hasDpsConnection(dataDir)).toBe(false);
    const summary = await saveDpsConnectionString(dataDir, connection, wrapper);
    expect(summary).toEqual({
      file: join(dataDir, 'dps', 'connection.sealed.json'),
      hostName: 'line7-dps.azure-devices-provisioning.net',
      sharedAccessKeyName: 'provisioningserviceowner',
    });
    const text = readFileSync(dpsConnectionFile(dataDir), 'utf8');
    expect(text).not.toContain(key);
    expect(text).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    expect(text).not.toContain('SharedAccessKey');
    expect(text).not.toContain('line7-dps');
    expect(JSON.parse(text)).toMatchObject({
      format: 'line-station/sealed-secret',
      context: 'line-station/dps/service-connection-string',
    });
    expect(statSync(dpsConnectionFile(dataDir)).mode & 0o777).toBe(0o600);
    // No temporary file is left beside it.
    expect(readdirSync(dirname(dpsConnectionFile(dataDir)))).toEqual(['connection.sealed.json']);

    expect(await loadDpsConnectionString(dataDir, wrapper)).toEqual({
      hostName: 'line7-dps.azure-devices-provisioning.net',
      sharedAccessKeyName: 'provisioningserviceowner',
      sharedAccessKey: key,
    });
  });

  it('refuses an invalid connection string without echoing it, and writes nothing', async () => {
    const bad = `HostName=line7;SharedAccessKey=${key}`;
    const err = await saveDpsConnectionString(dataDir, bad, wrapper).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DPS_CONNECTION_STRING_INVALID' });
    expect(JSON.stringify(err) + String(err) + (err as Error).message).not.toContain(key);
    expect(hasDpsConnection(dataDir)).toBe(false);
  });

  it('says when no connection is set, and refuses the wrong passphrase', async () => {
    await expect(loadDpsConnectionString(dataDir, wrapper)).rejects.toMatchObject({
      code: 'SYNC_NOT_CONFIGURED',
    });
    await saveDpsConnectionString(dataDir, connection, wrapper);
    const wrong = new PassphraseKeyWrapper('another passphrase', { scrypt: { N: 1024 } });
    await expect(loadDpsConnectionString(dataDir, wrong)).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
  });

  it('refuses a sealed file made for another purpose', async () => {
    await saveDpsConnectionString(dataDir, connection, wrapper);
    const groupKey = await sealSecret(randomBytes(32), wrapper, 'line-station/dps/group-key/g1');
    writeFileSync(dpsConnectionFile(dataDir), JSON.stringify(groupKey));
    await expect(loadDpsConnectionString(dataDir, wrapper)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
    });
  });
});
