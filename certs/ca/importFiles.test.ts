import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeContents, readImportFiles, type ImportFilePaths } from './importFiles.js';
import { OpensslPki } from './testing/opensslPki.js';

const work = mkdtempSync(join(tmpdir(), 'line-station-import-files-'));
const pki = new OpensslPki(work);
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  pki.selfSigned('root', 'P-256', 'root', 'Customer Root');
  pki.issue('iss', 'P-256', 'root', 'intermediate', 'Customer Issuing CA');
  pki.run('x509', '-in', 'iss.pem', '-outform', 'der', '-out', 'iss.der');
  pki.run('pkey', '-in', 'iss.key', '-pubout', '-out', 'iss.pub');
  pki.run(
    'pkcs8',
    '-topk8',
    '-in',
    'iss.key',
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:key pass',
    '-out',
    'iss.enc.key',
  );
  pki.pkcs12('iss', 'iss', ['root'], 'p12 pass');
  // Damaged copies of the CA certificate, as a file mangled on its way to the station arrives.
  const lines = pki.text('iss.pem').split('\n');
  lines[2] = `#${lines[2]!.slice(1)}`;
  writeFileSync(pki.path('hash.pem'), lines.join('\n'));
  writeFileSync(pki.path('cut.pem'), pki.text('iss.pem').slice(0, 300));
  pki.unknownCurve('iss', 'curve');
  writeFileSync(pki.path('chain-cut.pem'), pki.text('root.pem').slice(0, 200));
  writeFileSync(pki.path('empty'), '');
  mkdirSync(pki.path('sub'));
  writeFileSync(pki.path('notes.txt'), 'HostName=dps;SharedAccessKeyName=x\n');
});

describe('describeContents', () => {
  it.each([
    ['iss.pem', 'a PEM certificate (CN=Customer Issuing CA)'],
    ['iss.key', 'a PEM private key'],
    ['iss.enc.key', 'an encrypted PEM private key'],
    ['iss.pub', 'a PEM public key'],
    ['iss.csr', 'a PEM certificate request (CSR)'],
    ['iss.der', 'a DER certificate (CN=Customer Issuing CA)'],
    ['iss.p12', 'a PKCS#12 file'],
    ['iss.chain.pem', 'a PEM certificate (CN=Customer Root)'],
    ['empty', 'an empty file'],
    ['notes.txt', 'text with no PEM block'],
  ])('%s: %s', (name, expected) => {
    expect(describeContents(pki.bytes(name))).toBe(expected);
  });

  it('names both when one file holds a certificate and its key', () => {
    const both = Buffer.from(pki.text('root.pem') + pki.text('iss.pem') + pki.text('iss.key'));
    expect(describeContents(both)).toBe(
      '2 PEM certificates (the first CN=Customer Root) and a PEM private key',
    );
  });
});

describe('readImportFiles refuses a file that is not what its flag asks for', () => {
  const refusal = (paths: ImportFilePaths) => readImportFiles(paths).catch((err: unknown) => err);

  it.each([
    [
      'a PEM certificate as --pkcs12',
      { pkcs12: 'iss.pem' },
      'CA_IMPORT_NOT_PKCS12',
      'a PEM certificate (CN=Customer Issuing CA), not a PKCS#12 file',
      'iss.pem',
    ],
    [
      'a certificate as --key',
      { certificate: 'iss.pem', key: 'iss.pem' },
      'CA_IMPORT_NO_PRIVATE_KEY',
      'a PEM certificate (CN=Customer Issuing CA), no private key',
      'iss.pem',
    ],
    [
      'a key as --chain',
      { certificate: 'iss.pem', key: 'iss.key', chain: 'iss.key' },
      'CA_IMPORT_CHAIN_EMPTY',
      'a PEM private key, no PEM certificate',
      'iss.key',
    ],
    [
      'a key as --cert',
      { certificate: 'iss.key', key: 'iss.pem' },
      'CA_IMPORT_NO_CERTIFICATE',
      'a PEM private key, no PEM certificate',
      'iss.key',
    ],
    [
      'a DER certificate as --cert',
      { certificate: 'iss.der', key: 'iss.key' },
      'CA_IMPORT_NO_CERTIFICATE',
      'a DER certificate (CN=Customer Issuing CA), no PEM certificate',
      'iss.der',
    ],
    [
      'a missing file',
      { pkcs12: 'iss.pfx' },
      'CA_IMPORT_FILE_UNREADABLE',
      'no such file',
      'iss.pfx',
    ],
    [
      'a folder',
      { certificate: 'sub' },
      'CA_IMPORT_FILE_UNREADABLE',
      'a folder, not a file',
      'sub',
    ],
  ] as const)('%s', async (_name, given, code, finding, blamed) => {
    const paths = Object.fromEntries(
      Object.entries(given).map(([role, name]) => [role, pki.path(name)]),
    );
    const err = await refusal(paths);
    const file = pki.path(blamed);
    expect(err).toMatchObject({ code, detail: `${file}: ${finding}` });
    // The operator's text starts with the file and what it holds, then what to do.
    expect((err as Error).message.startsWith(`${file}: ${finding}. `)).toBe(true);
  });

  // A damaged certificate file was "a PEM certificate, no PEM certificate … check that --cert and
  // --key are not swapped" (CA_IMPORT_NO_CERTIFICATE), or OpenSSL's bare "decode error" with no
  // code and no file named, thrown later from validation.
  it.each([
    ['a base64 character changed to #', { certificate: 'hash.pem' }, 'hash.pem', '"#" on line 3'],
    [
      'a file cut short',
      { certificate: 'cut.pem' },
      'cut.pem',
      'no -----END CERTIFICATE----- line',
    ],
    [
      "a certificate whose key's curve OID is changed",
      { certificate: 'curve.pem' },
      'curve.pem',
      'the public key of certificate block 1 (CN=Customer Issuing CA) cannot be read',
    ],
    [
      'a chain file cut short',
      { certificate: 'iss.pem', chain: 'chain-cut.pem' },
      'chain-cut.pem',
      'no -----END CERTIFICATE----- line',
    ],
  ] as const)(
    'names %s as a damaged file to fetch again',
    async (_name, given, blamed, finding) => {
      const paths = Object.fromEntries(
        Object.entries({ key: 'iss.key', ...given }).map(([role, name]) => [role, pki.path(name)]),
      );
      const err = await refusal(paths);
      const file = pki.path(blamed);
      expect(err).toMatchObject({ code: 'CA_IMPORT_CERTIFICATE_DAMAGED' });
      const { message, detail } = err as { message: string; detail: string };
      expect(detail.startsWith(`${file}: PEM certificate armour, but `)).toBe(true);
      expect(detail).toContain(finding);
      expect(message).toContain('The file is damaged');
      expect(message).toContain("Get a fresh copy from the CA's owner");
      expect(message).not.toContain('no PEM certificate');
      expect(message).not.toContain('swapped');
    },
  );

  it('takes the changed curve for what the supervisor met: openssl reads the certificate, not its key', () => {
    expect(pki.run('x509', '-in', 'curve.pem', '-noout', '-subject')).toContain(
      'Customer Issuing CA',
    );
    expect(() => pki.run('x509', '-in', 'curve.pem', '-noout', '-pubkey')).toThrow(/decode error/);
  });

  it('refuses a device or a pipe, which has no size to check and could be read for ever', async () => {
    expect(await refusal({ certificate: '/dev/zero' })).toMatchObject({
      code: 'CA_IMPORT_FILE_UNREADABLE',
      detail: '/dev/zero: not a regular file',
    });
  });

  it('reads what it may without secrets, and says when the key needs its passphrase', async () => {
    const plain = await readImportFiles({
      certificate: pki.path('iss.pem'),
      key: pki.path('iss.key'),
      chain: pki.path('root.pem'),
    });
    expect(plain).toMatchObject({ keyEncrypted: false, chainPem: pki.text('root.pem') });
    const sealed = await readImportFiles({
      certificate: pki.path('iss.pem'),
      key: pki.path('iss.enc.key'),
    });
    expect(sealed.keyEncrypted).toBe(true);
    const p12 = await readImportFiles({ pkcs12: pki.path('iss.p12'), chain: pki.path('root.pem') });
    expect(p12.pkcs12).toEqual(pki.bytes('iss.p12'));
  });
});
