import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { CA_FILES } from './caFiles.js';
import { initStationCa } from './initStationCa.js';
import { openCa } from './openCa.js';

const FAST = { scrypt: { N: 2 ** 10 } };
const wrapper = new PassphraseKeyWrapper('line supervisor passphrase', FAST);
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-open-'));
const caDir = join(work, 'ca');
const made = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  await initStationCa(caDir, { name: 'Lifecycle', wrapper, issuingValidityYears: 2, now: made });
});

/** A CA directory copy whose files can be damaged without touching the shared one. */
function copyOfCa(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o700 });
  for (const file of Object.values(CA_FILES)) copyFileSync(join(caDir, file), join(dir, file));
  return dir;
}

describe('openCa', () => {
  it('reports status without unlocking, and counts days left on the given clock', async () => {
    const clock = { t: made.getTime() + 10 * DAY };
    const ca = await openCa(caDir, { now: () => new Date(clock.t) });
    const status = ca.status();
    expect(status).toMatchObject({
      mode: 'station-root',
      subject: 'CN=Lifecycle Issuing CA',
      issuer: 'CN=Lifecycle Root CA',
      locked: true,
      keyAlgorithm: 'P-256',
      unlockWith: 'passphrase',
      createdAt: made,
    });
    const total = Math.floor((status.notAfter.getTime() - made.getTime()) / DAY);
    expect(status.daysLeft).toBe(total - 10);
    expect(JSON.stringify(status)).not.toMatch(/PRIVATE|sealed|ciphertext/i);
  });

  it('refuses to issue while locked, and again after lock()', async () => {
    const ca = await openCa(caDir, { now: () => made });
    expect(() => ca.requireUnlocked()).toThrow(expect.objectContaining({ code: 'CA_LOCKED' }));
    const unlocked = await ca.unlock(wrapper);
    expect(ca.requireUnlocked()).toBe(unlocked);
    await expect(unlocked.signer.sign(new Uint8Array(8))).resolves.toBeInstanceOf(Uint8Array);
    ca.lock();
    expect(ca.status().locked).toBe(true);
    expect(() => ca.requireUnlocked()).toThrow(expect.objectContaining({ code: 'CA_LOCKED' }));
    await expect(unlocked.signer.sign(new Uint8Array(8))).rejects.toMatchObject({
      code: 'CA_LOCKED',
    });
  });

  it('stays locked after a wrong passphrase', async () => {
    const ca = await openCa(caDir, { now: () => made });
    await expect(ca.unlock(new PassphraseKeyWrapper('nope', FAST))).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(ca.status().locked).toBe(true);
  });

  it('refuses to unlock an expired CA, and stops issuing when it expires mid-session', async () => {
    const later = await openCa(caDir, { now: () => new Date(made.getTime() + 3 * 365 * DAY) });
    expect(later.status().daysLeft).toBeLessThan(0);
    await expect(later.unlock(wrapper)).rejects.toMatchObject({ code: 'CA_EXPIRED' });

    const clock = { t: made.getTime() };
    const ca = await openCa(caDir, { now: () => new Date(clock.t) });
    const unlocked = await ca.unlock(wrapper);
    clock.t = ca.status().notAfter.getTime() + 1000;
    expect(() => ca.requireUnlocked()).toThrow(expect.objectContaining({ code: 'CA_EXPIRED' }));
    await expect(unlocked.signer.sign(new Uint8Array(8))).rejects.toMatchObject({
      code: 'CA_EXPIRED',
    });
  });

  it('refuses a CA whose clock says it is not valid yet', async () => {
    const early = await openCa(caDir, { now: () => new Date(made.getTime() - 30 * DAY) });
    await expect(early.unlock(wrapper)).rejects.toMatchObject({ code: 'CA_NOT_YET_VALID' });
  });

  it('reports a damaged ca.json as CA_RECORD_CORRUPT', async () => {
    const dir = copyOfCa('damaged-record');
    const text = readFileSync(join(dir, CA_FILES.record), 'utf8');
    writeFileSync(join(dir, CA_FILES.record), text.slice(0, text.length / 2));
    await expect(openCa(dir)).rejects.toMatchObject({ code: 'CA_RECORD_CORRUPT' });
    writeFileSync(join(dir, CA_FILES.record), text.replace(/MII[A-Za-z0-9+/]{8}/, 'MII!!!!!!!!!'));
    await expect(openCa(dir)).rejects.toMatchObject({ code: 'CA_RECORD_CORRUPT' });
  });

  it('refuses the root key file put in place of the issuing key', async () => {
    const dir = copyOfCa('swapped-keys');
    copyFileSync(join(dir, CA_FILES.rootKey), join(dir, CA_FILES.issuingKey));
    const ca = await openCa(dir, { now: () => made });
    await expect(ca.unlock(wrapper)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
      detail: expect.stringContaining('root-key'),
    });
  });

  it('reports a missing issuing key file as corrupt', async () => {
    const dir = copyOfCa('missing-key');
    rmSync(join(dir, CA_FILES.issuingKey));
    await expect(openCa(dir)).rejects.toMatchObject({ code: 'CUSTODY_KEY_FILE_CORRUPT' });
  });
});
