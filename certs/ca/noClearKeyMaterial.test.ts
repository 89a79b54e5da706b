import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { openSecret, parseSealedSecret } from '../custody/secretBox.js';
import { CA_FILES } from './caFiles.js';
import { CA_KEY_CONTEXT } from './caStore.js';
import { importIssuingCa } from './importIssuingCa.js';
import { initStationCa } from './initStationCa.js';
import { OpensslPki } from './testing/opensslPki.js';

/**
 * Looks through every byte the CA directory holds for the private keys in any form a careless
 * writer might have left them in: PEM, PKCS#8 DER, or the bare private scalar, each as raw
 * bytes, hex (either case), base64 (at every byte alignment) and base64url.
 */

const wrapper = new PassphraseKeyWrapper('grep me if you can', { scrypt: { N: 2 ** 10 } });
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-grep-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Needle {
  what: string;
  bytes: Buffer;
}

/** Every encoding of `secret` to look for; base64 is tried from each of 3 byte offsets. */
function encodings(what: string, secret: Buffer): Needle[] {
  const needles: Needle[] = [
    { what: `${what} (binary)`, bytes: secret },
    { what: `${what} (hex)`, bytes: Buffer.from(secret.toString('hex')) },
    { what: `${what} (HEX)`, bytes: Buffer.from(secret.toString('hex').toUpperCase()) },
  ];
  for (let offset = 0; offset < 3; offset++) {
    const tail = secret.subarray(offset);
    // Dropping the last 4 characters removes the part that depends on what follows the secret.
    for (const kind of ['base64', 'base64url'] as const) {
      const text = tail.toString(kind).replace(/=+$/, '').slice(0, -4);
      needles.push({ what: `${what} (${kind}, offset ${offset})`, bytes: Buffer.from(text) });
    }
  }
  return needles;
}

/** The needles for a private key: its PKCS#8 DER and its private scalar (EC `d`). */
function keyNeedles(what: string, key: KeyObject): Needle[] {
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  expect(d.length).toBeGreaterThanOrEqual(32);
  return [...encodings(`${what} PKCS#8`, pkcs8), ...encodings(`${what} scalar`, d)];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** What was found where; empty means clean. */
function findKeyMaterial(dir: string, needles: Needle[]): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    const content = readFileSync(file);
    if (content.includes('PRIVATE KEY')) found.push(`${file}: a PRIVATE KEY PEM header`);
    for (const needle of needles) {
      if (content.includes(needle.bytes)) found.push(`${file}: ${needle.what}`);
    }
  }
  return found;
}

async function unsealedKey(caDir: string, file: string, context: string): Promise<KeyObject> {
  const sealed = parseSealedSecret(readFileSync(join(caDir, file), 'utf8'));
  const pkcs8 = await openSecret(sealed, wrapper, context);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

describe('the CA directory holds no key in clear', () => {
  it('the search finds each encoding of a key when one is planted (so it can fail)', async () => {
    const caDir = join(work, 'planted');
    await initStationCa(caDir, { name: 'Planted', wrapper });
    const key = await unsealedKey(caDir, CA_FILES.issuingKey, CA_KEY_CONTEXT.issuingKey);
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
    const issuing = await unsealedKey(caDir, CA_FILES.issuingKey, CA_KEY_CONTEXT.issuingKey);
    const root = await unsealedKey(caDir, CA_FILES.rootKey, CA_KEY_CONTEXT.rootKey);
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
      const unsealed = await unsealedKey(caDir, CA_FILES.issuingKey, CA_KEY_CONTEXT.issuingKey);
      expect(unsealed.equals(key)).toBe(true);
    }
  });
});
