import {
  X509Certificate,
  createPrivateKey,
  randomBytes,
  verify,
  type JsonWebKey,
} from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import {
  importIssuingCa,
  prepareIssuingCa,
  writeImportedCa,
  type ImportIssuingCaOptions,
} from './importIssuingCa.js';
import { openCa } from './openCa.js';
import { OpensslPki } from './testing/opensslPki.js';

// A CA key file whose public key is the certificate's but whose private half is another key's:
// X509Certificate.checkPrivateKey compares only the public keys, so such a file passed the
// import, and every leaf it signed then failed `openssl verify`.

const wrapper = new PassphraseKeyWrapper('import passphrase', { scrypt: { N: 2 ** 10 } });
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-keypair-'));
const pki = new OpensslPki(mkdtempSync(join(work, 'pki-')));
let dirs = 0;
const freshCaDir = () => join(work, `station-${++dirs}`, 'ca');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Writes `<out>` holding `<name>.key`'s public key with `<donor>.key`'s private half (EC: the
 * scalar d; RSA: d, p, q and the CRT values), in the given PEM encoding. Node loads such a JWK
 * without checking the halves against each other, as OpenSSL loads such a PEM.
 */
function mixedKey(out: string, name: string, donor: string, type: 'pkcs8' | 'sec1' | 'pkcs1') {
  const own = createPrivateKey(pki.text(`${name}.key`)).export({ format: 'jwk' });
  const other = createPrivateKey(pki.text(`${donor}.key`)).export({ format: 'jwk' });
  const jwk: JsonWebKey =
    own.kty === 'EC' ? { ...own, d: other.d } : { ...other, n: own.n, e: own.e };
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  writeFileSync(pki.path(out), key.export({ format: 'pem', type }) as string);
}

beforeAll(() => {
  pki.selfSigned('root', 'P-256', 'root', 'Customer Root');
  pki.issue('int', 'P-256', 'root', 'intermediate', 'Customer Line Issuing CA');
  pki.key('other', 'P-256');
  pki.issue('int384', 'P-384', 'root', 'intermediate', 'Customer P-384 Issuing CA');
  pki.key('other384', 'P-384');
  pki.selfSigned('rsa', 'RSA-2048', 'root', 'Customer RSA Root');
  pki.key('otherRsa', 'RSA-2048');
  mixedKey('int.mixed.key', 'int', 'other', 'pkcs8');
  mixedKey('int.mixed.sec1.pem', 'int', 'other', 'sec1');
  mixedKey('int384.mixed.key', 'int384', 'other384', 'pkcs8');
  mixedKey('rsa.mixed.pkcs1.pem', 'rsa', 'otherRsa', 'pkcs1');
  // openssl pkcs12 -export pairs key and certificate by public key too, so it packs this file.
  writeFileSync(pki.path('intMixed.pem'), pki.text('int.pem'));
  writeFileSync(pki.path('intMixed.key'), pki.text('int.mixed.key'));
  pki.pkcs12('int-mixed', 'intMixed', ['root'], 'p12 pass');
});

function pem(name: string, key: string, chain: string[]): ImportIssuingCaOptions {
  return {
    certificatePem: pki.text(`${name}.pem`),
    privateKeyPem: pki.text(key),
    chainPem: chain.map((c) => pki.text(`${c}.pem`)).join(''),
    wrapper,
  };
}

const mixed: [string, () => ImportIssuingCaOptions][] = [
  ['P-256, PKCS#8', () => pem('int', 'int.mixed.key', ['root'])],
  ['P-256, SEC1', () => pem('int', 'int.mixed.sec1.pem', ['root'])],
  ['P-384, PKCS#8', () => pem('int384', 'int384.mixed.key', ['root'])],
  ['RSA 2048, PKCS#1', () => pem('rsa', 'rsa.mixed.pkcs1.pem', [])],
  [
    'P-256 in a PKCS#12 file',
    () => ({ pkcs12: pki.bytes('int-mixed.p12'), pkcs12Password: 'p12 pass', wrapper }),
  ],
];

describe('CA key pair proof', () => {
  it.each([
    ['int', 'int.mixed.key'],
    ['int', 'int.mixed.sec1.pem'],
    ['int384', 'int384.mixed.key'],
    ['rsa', 'rsa.mixed.pkcs1.pem'],
  ])('the fixture %s + %s passes the public-key comparison alone', (name, key) => {
    const certificate = new X509Certificate(pki.text(`${name}.pem`));
    const privateKey = createPrivateKey(pki.text(key));
    expect(certificate.checkPrivateKey(privateKey)).toBe(true);
  });

  it.each(mixed)(
    'import refuses a key whose private half is another key, %s, and writes nothing',
    async (_why, options) => {
      const caDir = freshCaDir();
      await expect(importIssuingCa(caDir, options())).rejects.toMatchObject({
        name: 'CertError',
        code: 'CA_KEY_MISMATCH',
        message: 'The private key does not belong to the CA certificate. Import the matching pair.',
      });
      expect(existsSync(caDir) ? readdirSync(caDir) : []).toEqual([]);
    },
  );

  it.each([
    ['P-256', () => pem('int', 'int.key', ['root']), 'sha256'],
    ['P-384', () => pem('int384', 'int384.key', ['root']), 'sha384'],
    ['RSA 2048', () => pem('rsa', 'rsa.key', []), 'sha256'],
  ])('a true %s pair still imports, unlocks and signs', async (_why, options, hash) => {
    const caDir = freshCaDir();
    await importIssuingCa(caDir, options());
    const unlocked = await (await openCa(caDir)).unlock(wrapper);
    const data = randomBytes(64);
    const signature = await unlocked.signer.sign(data);
    const publicKey = new X509Certificate(Buffer.from(unlocked.issuingCertificateDer)).publicKey;
    expect(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
  });

  it('unlock refuses such a key found in the sealed file', async () => {
    const caDir = freshCaDir();
    const prepared = prepareIssuingCa(pem('int', 'int.key', ['root']));
    const doctored = createPrivateKey(pki.text('int.mixed.key'));
    await writeImportedCa(caDir, { ...prepared, privateKey: doctored }, wrapper);
    await expect((await openCa(caDir)).unlock(wrapper)).rejects.toMatchObject({
      code: 'CA_KEY_MISMATCH',
    });
  });
});
