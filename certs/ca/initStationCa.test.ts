import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { openSecret, parseSealedSecret } from '../custody/secretBox.js';
import { CA_FILES } from './caFiles.js';
import { CA_KEY_CONTEXT } from './caStore.js';
import { initStationCa } from './initStationCa.js';
import { openCa } from './openCa.js';

const FAST = { scrypt: { N: 2 ** 10 } };
const wrapper = new PassphraseKeyWrapper('line supervisor passphrase', FAST);
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let dirs = 0;
const freshCaDir = () => join(work, `station-${++dirs}`, 'ca');

describe('initStationCa', () => {
  it('makes a root and an issuing CA that openssl verifies', async () => {
    const caDir = freshCaDir();
    const record = await initStationCa(caDir, { name: 'Line 7', wrapper });
    expect(record).toMatchObject({ mode: 'station-root', keyAlgorithm: 'P-256' });
    expect(readdirSync(caDir).sort()).toEqual(
      [CA_FILES.record, CA_FILES.issuingKey, CA_FILES.rootKey].sort(),
    );
    const rootPem = record.chainPems[0]!;
    expect(record.chainPems).toHaveLength(1);
    writeFileSync(join(work, 'root.pem'), rootPem);
    writeFileSync(join(work, 'issuing.pem'), record.issuingCertificatePem);
    const out = execFileSync(
      'openssl',
      ['verify', '-x509_strict', '-CAfile', 'root.pem', 'issuing.pem'],
      { cwd: work, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('issuing.pem: OK');

    const root = new x509.X509Certificate(rootPem);
    const issuing = new x509.X509Certificate(record.issuingCertificatePem);
    expect(root.subject).toBe('CN=Line 7 Root CA');
    expect(issuing.subject).toBe('CN=Line 7 Issuing CA');
    const rootBc = root.getExtension(x509.BasicConstraintsExtension)!;
    const issuingBc = issuing.getExtension(x509.BasicConstraintsExtension)!;
    expect([rootBc.ca, rootBc.pathLength, rootBc.critical]).toEqual([true, 1, true]);
    expect([issuingBc.ca, issuingBc.pathLength, issuingBc.critical]).toEqual([true, 0, true]);
    const ku = issuing.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(issuing.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    expect(issuing.getExtension(x509.AuthorityKeyIdentifierExtension)).not.toBeNull();
    expect(root.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
  });

  it.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
  ] as const)(
    'unlocks a %s CA whose signer signs for the issuing certificate',
    async (curve, hash) => {
      const caDir = freshCaDir();
      await initStationCa(caDir, { name: 'Sign test', wrapper, keyAlgorithm: curve });
      const ca = await openCa(caDir);
      expect(ca.status()).toMatchObject({
        locked: true,
        keyAlgorithm: curve,
        unlockWith: 'passphrase',
      });
      const unlocked = await ca.unlock(wrapper);
      expect(ca.status().locked).toBe(false);
      expect(unlocked.signer.algorithm).toBe(
        curve === 'P-256' ? 'ecdsa-with-SHA256' : 'ecdsa-with-SHA384',
      );
      expect(unlocked.chainDer).toHaveLength(2);
      expect(unlocked.chainDer[0]).toEqual(unlocked.issuingCertificateDer);

      const tbs = randomBytes(300);
      const signature = await ca.requireUnlocked().signer.sign(tbs);
      const issuingKey = new X509Certificate(Buffer.from(unlocked.issuingCertificateDer)).publicKey;
      expect(verify(hash, tbs, { key: issuingKey, dsaEncoding: 'der' }, signature)).toBe(true);
      tbs[0] = tbs[0]! ^ 1;
      expect(verify(hash, tbs, { key: issuingKey, dsaEncoding: 'der' }, signature)).toBe(false);
    },
  );

  it('refuses to initialise twice and leaves the first CA as it was', async () => {
    const caDir = freshCaDir();
    await initStationCa(caDir, { name: 'Once', wrapper });
    const before = readFileSync(join(caDir, CA_FILES.record));
    const keyBefore = readFileSync(join(caDir, CA_FILES.issuingKey));
    await expect(initStationCa(caDir, { name: 'Twice', wrapper })).rejects.toMatchObject({
      code: 'CA_ALREADY_INITIALISED',
    });
    expect(readFileSync(join(caDir, CA_FILES.record)).equals(before)).toBe(true);
    expect(readFileSync(join(caDir, CA_FILES.issuingKey)).equals(keyBefore)).toBe(true);
  });

  it('writes files 0o600 in a 0o700 directory, with no temp files left', async () => {
    const caDir = freshCaDir();
    await initStationCa(caDir, { name: 'Modes', wrapper });
    expect(statSync(caDir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(caDir)) {
      expect(file).not.toMatch(/\.tmp$/);
      expect(statSync(join(caDir, file)).mode & 0o777).toBe(0o600);
    }
  });

  it('seals the root key apart, with its own context and optionally its own wrapper', async () => {
    const caDir = freshCaDir();
    const rootWrapper = new PassphraseKeyWrapper('kept in the safe by the PKI officer', FAST);
    await initStationCa(caDir, { name: 'Split', wrapper, rootWrapper });
    const rootSealed = parseSealedSecret(readFileSync(join(caDir, CA_FILES.rootKey), 'utf8'));
    expect(rootSealed.context).toBe(CA_KEY_CONTEXT.rootKey);
    await expect(openSecret(rootSealed, wrapper, CA_KEY_CONTEXT.rootKey)).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    const rootKey = await openSecret(rootSealed, rootWrapper, CA_KEY_CONTEXT.rootKey);
    expect(rootKey.length).toBeGreaterThan(100);
    // The day-to-day passphrase still unlocks the issuing CA.
    await (await openCa(caDir)).unlock(wrapper);
  });

  it('validates its inputs before doing any work', async () => {
    const caDir = freshCaDir();
    await expect(initStationCa(caDir, { name: ' ', wrapper })).rejects.toThrow(RangeError);
    await expect(
      initStationCa(caDir, { name: 'x', wrapper, rootValidityYears: 5, issuingValidityYears: 10 }),
    ).rejects.toThrow(RangeError);
    await expect(openCa(caDir)).rejects.toMatchObject({ code: 'CA_NOT_INITIALISED' });
  });
});
