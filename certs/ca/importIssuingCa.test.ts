import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey, randomBytes, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CertErrorCode } from '../certErrors.js';
import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { importIssuingCa, type ImportIssuingCaOptions } from './importIssuingCa.js';
import { openCa } from './openCa.js';
import { OpensslPki } from './testing/opensslPki.js';

const wrapper = new PassphraseKeyWrapper('import passphrase', { scrypt: { N: 2 ** 10 } });
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-import-'));
const pki = new OpensslPki(mkdtempSync(join(work, 'pki-')));
const DAY = 86_400_000;
let dirs = 0;
const freshCaDir = () => join(work, `station-${++dirs}`, 'ca');
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  // The customer's PKI: root (pathlen 1) -> issuing CA (pathlen 0), which the station imports.
  pki.selfSigned('root', 'P-256', 'root', 'Customer Root');
  pki.issue('int', 'P-256', 'root', 'intermediate', 'Customer Line Issuing CA');
  pki.run('ec', '-in', 'int.key', '-out', 'int.sec1.pem');
  pki.run(
    'pkcs8',
    '-topk8',
    '-in',
    'int.key',
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:key pass',
    '-out',
    'int.enc.pem',
  );
  pki.pkcs12('int-default', 'int', ['root'], 'p12 pass');
  pki.pkcs12('int-legacy', 'int', ['root'], 'p12 pass', true);
  pki.selfSigned('rsa', 'RSA-2048', 'root', 'Customer RSA Root');
  pki.run('pkey', '-in', 'rsa.key', '-traditional', '-out', 'rsa.pkcs1.pem');
  pki.pkcs12('rsa-default', 'rsa', [], 'p12 pass');
  // What the refusals need.
  pki.issue('leaf', 'P-256', 'root', 'leaf', 'not-a-ca-device');
  pki.issue('nocertsign', 'P-256', 'root', 'ca_without_cert_sign', 'Signs CRLs only');
  pki.key('other', 'P-256');
  pki.selfSigned('ed', 'Ed25519', 'root', 'Ed25519 Root');
  pki.pkcs12('ed-default', 'ed', [], 'p12 pass');
  pki.selfSigned('rsa1024', 'RSA-1024', 'root', 'Weak Root');
  pki.selfSigned('impostor', 'P-256', 'root', 'Customer Root');
  pki.selfSigned('root0', 'P-256', 'root_pathlen0', 'Root Allowing No Intermediates');
  pki.issue('int0', 'P-256', 'root0', 'intermediate', 'Intermediate Under Pathlen 0');
  pki.issue('intServer', 'P-256', 'root', 'intermediate_server_only', 'TLS Server Issuing CA');
  pki.issue('intClient', 'P-256', 'root', 'intermediate_client', 'TLS Client Issuing CA');
  pki.unknownCurve('int', 'intCurve');
});

/** PEM import options for `<name>.pem` with `<name>.key` and the given chain files. */
function pem(
  name: string,
  chain: string[] = ['root'],
  key = `${name}.key`,
): ImportIssuingCaOptions {
  return {
    certificatePem: pki.text(`${name}.pem`),
    privateKeyPem: pki.text(key),
    chainPem: chain.map((c) => pki.text(`${c}.pem`)).join(''),
    wrapper,
  };
}

/** Imports, unlocks and checks a signature against the imported certificate's key. */
async function importAndSign(options: ImportIssuingCaOptions, hash = 'sha256'): Promise<string> {
  const caDir = freshCaDir();
  const record = await importIssuingCa(caDir, options);
  const ca = await openCa(caDir);
  expect(ca.status()).toMatchObject({ mode: 'imported', locked: true });
  const unlocked = await ca.unlock(wrapper);
  const data = randomBytes(64);
  const signature = await unlocked.signer.sign(data);
  const publicKey = new X509Certificate(Buffer.from(unlocked.issuingCertificateDer)).publicKey;
  expect(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
  return record.issuingCertificatePem;
}

describe('importIssuingCa', () => {
  it('imports an openssl-made intermediate with its chain; openssl verifies what was stored', async () => {
    const caDir = freshCaDir();
    const record = await importIssuingCa(caDir, pem('int'));
    expect(record).toMatchObject({ mode: 'imported', keyAlgorithm: 'P-256' });
    expect(record.chainPems).toHaveLength(1);
    writeFileSync(join(work, 'stored-root.pem'), record.chainPems[0]!);
    writeFileSync(join(work, 'stored-int.pem'), record.issuingCertificatePem);
    const out = execFileSync(
      'openssl',
      ['verify', '-CAfile', 'stored-root.pem', 'stored-int.pem'],
      {
        cwd: work,
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('stored-int.pem: OK');
    const unlocked = await (await openCa(caDir)).unlock(wrapper);
    expect(unlocked.chainDer).toHaveLength(2);
    expect(new X509Certificate(Buffer.from(unlocked.chainDer[1]!)).subject).toBe(
      'CN=Customer Root',
    );
  });

  it('reads the chain from the certificate bundle too, and drops unrelated certificates', async () => {
    const options = pem('int', ['rsa', 'ed']);
    options.certificatePem = pki.text('int.pem') + pki.text('root.pem');
    const record = await importIssuingCa(freshCaDir(), options);
    expect(record.chainPems).toEqual([
      expect.stringContaining(pki.text('root.pem').split('\n')[1]!),
    ]);
  });

  it.each([
    ['SEC1 "EC PRIVATE KEY"', 'int.sec1.pem', undefined, 'BEGIN EC PRIVATE KEY'],
    ['encrypted PKCS#8', 'int.enc.pem', 'key pass', 'BEGIN ENCRYPTED PRIVATE KEY'],
  ])('accepts a %s key', async (_name, keyFile, passphrase, header) => {
    expect(pki.text(keyFile)).toContain(header);
    await importAndSign({ ...pem('int', ['root'], keyFile), privateKeyPassphrase: passphrase });
  });

  it('accepts an RSA 2048 self-signed CA with a PKCS#1 key', async () => {
    expect(pki.text('rsa.pkcs1.pem')).toContain('BEGIN RSA PRIVATE KEY');
    await importAndSign(pem('rsa', [], 'rsa.pkcs1.pem'));
  });

  it.each([
    ['OpenSSL 3 default (AES-256-CBC, SHA-256 MAC)', 'int-default'],
    ['-legacy (3DES / RC2, SHA-1 MAC)', 'int-legacy'],
  ])('imports a PKCS#12 file, %s', async (_name, file) => {
    const stored = await importAndSign({
      pkcs12: pki.bytes(`${file}.p12`),
      pkcs12Password: 'p12 pass',
      wrapper,
    });
    expect(new X509Certificate(stored).subject).toBe('CN=Customer Line Issuing CA');
  });

  it('imports an RSA PKCS#12 file (forge parses those keys and certificates itself)', async () => {
    await importAndSign({
      pkcs12: pki.bytes('rsa-default.p12'),
      pkcs12Password: 'p12 pass',
      wrapper,
    });
  });

  const refusals: [CertErrorCode, string, () => ImportIssuingCaOptions, Date?][] = [
    ['CA_NOT_A_CA', 'a device certificate', () => pem('leaf')],
    ['CA_NO_KEY_CERT_SIGN', 'a CA without keyCertSign', () => pem('nocertsign')],
    ['CA_EXPIRED', 'a CA past notAfter', () => pem('int'), new Date(Date.now() + 6 * 365 * DAY)],
    ['CA_NOT_YET_VALID', 'a CA before notBefore', () => pem('int'), new Date(Date.now() - 2 * DAY)],
    ['CA_KEY_MISMATCH', 'another key', () => pem('int', ['root'], 'other.key')],
    ['CA_KEY_UNSUPPORTED', 'an Ed25519 CA', () => pem('ed', [])],
    [
      'CA_KEY_UNSUPPORTED',
      'an Ed25519 CA in a PKCS#12 file',
      () => ({ pkcs12: pki.bytes('ed-default.p12'), pkcs12Password: 'p12 pass', wrapper }),
    ],
    ['CA_KEY_UNSUPPORTED', 'an RSA-1024 CA', () => pem('rsa1024', [])],
    ['CA_CHAIN_BROKEN', 'no chain', () => pem('int', [])],
    ['CA_CHAIN_BROKEN', 'a same-named root with another key', () => pem('int', ['impostor'])],
    ['CA_PATHLEN_VIOLATED', 'a root with pathlen:0 above it', () => pem('int0', ['root0'])],
    [
      'CA_EKU_EXCLUDES_CLIENT_AUTH',
      'a CA restricted to serverAuth',
      () => pem('intServer', ['root']),
    ],
    ['CA_IMPORT_UNREADABLE', 'garbage', () => ({ ...pem('int'), certificatePem: 'hello' })],
    [
      'CA_IMPORT_UNREADABLE',
      'a broken PEM body',
      () => ({
        ...pem('int'),
        certificatePem: '-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n',
      }),
    ],
    // Was OpenSSL's bare "decode error" (ERR_OSSL_EVP_DECODE_ERROR), thrown from validation.
    [
      'CA_IMPORT_UNREADABLE',
      'a certificate whose public key cannot be read (its curve OID changed)',
      () => ({ ...pem('int'), certificatePem: pki.text('intCurve.pem') }),
    ],
    ['CA_IMPORT_UNREADABLE', 'a garbage key', () => ({ ...pem('int'), privateKeyPem: 'key?' })],
    [
      'CA_IMPORT_UNREADABLE',
      'a wrong key passphrase',
      () => ({
        ...pem('int', ['root'], 'int.enc.pem'),
        privateKeyPassphrase: 'wrong',
      }),
    ],
    [
      'CA_IMPORT_UNREADABLE',
      'a wrong PKCS#12 password',
      () => ({
        pkcs12: pki.bytes('int-default.p12'),
        pkcs12Password: 'wrong',
        wrapper,
      }),
    ],
    ['CA_IMPORT_UNREADABLE', 'PKCS#12 garbage', () => ({ pkcs12: randomBytes(300), wrapper })],
  ];

  it.each(refusals)('refuses with %s: %s, and writes nothing', async (code, _why, options, now) => {
    const caDir = freshCaDir();
    await expect(importIssuingCa(caDir, { ...options(), now })).rejects.toMatchObject({
      name: 'CertError',
      code,
    });
    expect(existsSync(caDir) ? readdirSync(caDir) : []).toEqual([]);
  });

  it('the refusal fixtures are otherwise sound (each refusal has one cause)', async () => {
    // The same certificates pass when the one fault is absent.
    await importAndSign(pem('int'));
    await importIssuingCa(freshCaDir(), { ...pem('int'), now: new Date(Date.now() + 30 * DAY) });
    expect(createPublicKey(pki.text('other.key')).asymmetricKeyType).toBe('ec');
    await importAndSign(pem('rsa', []));
    await importAndSign(pem('root', []));
    // An extended key usage that names clientAuth among others is fine.
    await importAndSign(pem('intClient'));
  });

  it('refuses when a CA already exists', async () => {
    const caDir = freshCaDir();
    await importIssuingCa(caDir, pem('int'));
    await expect(importIssuingCa(caDir, pem('rsa', []))).rejects.toMatchObject({
      code: 'CA_ALREADY_INITIALISED',
    });
  });
});
