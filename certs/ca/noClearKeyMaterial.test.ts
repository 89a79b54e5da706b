import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { CA_FILES } from './caFiles.js';
import { importIssuingCa } from './importIssuingCa.js';
import { initStationCa } from './initStationCa.js';
import { findKeyMaterial, keyNeedles, unsealedCaKey } from '../testing/secretNeedles.js';
import { OpensslPki } from './testing/opensslPki.js';

/**
 * Looks through every byte the CA directory holds for the private keys in any form a careless
 * writer might have left them in: PEM, PKCS#8 DER, or the bare private scalar, each as raw
 * bytes, hex (either case), base64 (at every byte alignment) and base64url.
 */

const wrapper = new PassphraseKeyWrapper('grep me if you can', { scrypt: { N: 2 ** 10 } });
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-grep-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const unsealedKey = (caDir: string, which: 'issuingKey' | 'rootKey'): Promise<KeyObject> =>
  unsealedCaKey(caDir, which, wrapper);

describe('the CA directory holds no key in clear', () => {
  it('the search finds each encoding of a key when one is planted (so it can fail)', async () => {
    const caDir = join(work, 'planted');
    await initStationCa(caDir, { name: 'Planted', wrapper });
    const key = await unsealedKey(caDir, 'issuingKey');
    const needles = keyNeedles('issuing key', key);
    expect(findKeyMaterial(caDir, needles)).toEqual([]);
    for (const [i, needle] of needles.entries()) {
      const plant = join(caDir, 'plant', String(i));
      mkdirSync(plant, { recursive: true });
      // Surrounded by other bytes, as a leak inside a JSON or log file would be.
      writeFileSync(
        join(plant, 'leak'),
        Buffer.concat([Buffer.from('x{"k":"'), needle.bytes, Buffer.from('"}')]),
      );
      expect(findKeyMaterial(plant, needles)).toContain(`${join(plant, 'leak')}: ${needle.what}`);
    }
    // A base64 blob holding the key somewhere inside, at each byte alignment.
    const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
    for (const prefix of [3, 4, 5]) {
      const blobDir = join(caDir, 'plant', `blob-${prefix}`);
      mkdirSync(blobDir);
      const blob = Buffer.concat([Buffer.alloc(prefix, 7), pkcs8, Buffer.alloc(9, 7)]);
      writeFileSync(join(blobDir, 'blob.json'), JSON.stringify({ blob: blob.toString('base64') }));
      expect(findKeyMaterial(blobDir, needles).length).toBeGreaterThan(0);
    }
    const pemDir = join(caDir, 'plant', 'pem');
    mkdirSync(pemDir);
    writeFileSync(join(pemDir, 'key.pem'), key.export({ format: 'pem', type: 'sec1' }));
    expect(findKeyMaterial(pemDir, [])).toHaveLength(1);
  });

  it('after initialising a station root', async () => {
    const caDir = join(work, 'init', 'ca');
    await initStationCa(caDir, { name: 'Grep', wrapper, keyAlgorithm: 'P-384' });
    const issuing = await unsealedKey(caDir, 'issuingKey');
    const root = await unsealedKey(caDir, 'rootKey');
    const needles = [...keyNeedles('issuing key', issuing), ...keyNeedles('root key', root)];
    expect(needles.length).toBeGreaterThan(30);
    expect(findKeyMaterial(caDir, needles)).toEqual([]);
    expect(findKeyMaterial(join(work, 'init'), needles)).toEqual([]);
  });

  it('after importing a CA from PEM and from PKCS#12', async () => {
    const pki = new OpensslPki(mkdtempSync(join(work, 'pki-')));
    pki.selfSigned('root', 'P-256', 'root', 'Grep Root');
    pki.issue('int', 'P-256', 'root', 'intermediate', 'Grep Issuing CA');
    pki.pkcs12('int', 'int', ['root'], 'pw');
    const key = createPrivateKey(pki.text('int.key'));
    const needles = keyNeedles('imported key', key);

    const fromPem = join(work, 'import-pem', 'ca');
    await importIssuingCa(fromPem, {
      certificatePem: pki.text('int.pem'),
      privateKeyPem: pki.text('int.key'),
      chainPem: pki.text('root.pem'),
      wrapper,
    });
    const fromP12 = join(work, 'import-p12', 'ca');
    await importIssuingCa(fromP12, { pkcs12: pki.bytes('int.p12'), pkcs12Password: 'pw', wrapper });

    for (const caDir of [fromPem, fromP12]) {
      expect(readdirSync(caDir).sort()).toEqual([CA_FILES.record, CA_FILES.issuingKey].sort());
      expect(findKeyMaterial(caDir, needles)).toEqual([]);
      for (const file of readdirSync(caDir)) {
        expect(statSync(join(caDir, file)).mode & 0o777).toBe(0o600);
      }
      expect(statSync(caDir).mode & 0o777).toBe(0o700);
      // And it is the key that was imported, sealed.
      const unsealed = await unsealedKey(caDir, 'issuingKey');
      expect(unsealed.equals(key)).toBe(true);
    }
  });
});
