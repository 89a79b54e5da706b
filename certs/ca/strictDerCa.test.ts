import { X509Certificate, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { contextPrimitive, TAG } from '../der/derTags.js';
import { encodeTime } from '../der/derTime.js';
import {
  bitString,
  explicit,
  integerFromBytes,
  oid,
  sequence,
  set,
  smallInteger,
  tlv,
} from '../der/derWriter.js';
import { TEST_ID } from '../fixtures/leafFixtures.js';
import { testPrivateKey, testSpki } from '../fixtures/testKeys.js';
import { LeafTemplate } from '../leaf/leafTemplate.js';
import { DEFAULT_LEAF_PROFILE } from '../leafProfile.js';
import {
  basicConstraints,
  KEY_USAGE,
  keyUsage,
  signatureAlgorithm,
  subjectKeyIdentifier,
  subjectPublicKeyBits,
  testName,
  withCriticalFalseWritten,
} from '../testing/testCertificates.js';
import { OID } from '../x509/oids.js';
import { certificateToPem } from './pemCertificates.js';
import { importIssuingCa, writeImportedCa } from './importIssuingCa.js';
import { openCa } from './openCa.js';

/**
 * A CA certificate that node:crypto and @peculiar/x509 read, but that is not DER, used to pass
 * `ca import` and unlock and then fail every device: the leaf template reads the CA with the
 * strict DER reader. Import and unlock now run that reader too (CA_CERTIFICATE_NOT_DER).
 */

const wrapper = new PassphraseKeyWrapper('strict der passphrase', { scrypt: { N: 2 ** 10 } });
const work = mkdtempSync(join(tmpdir(), 'line-station-ca-der-'));
let dirs = 0;
const freshCaDir = () => join(work, `station-${++dirs}`, 'ca');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const caKey = testPrivateKey('test-ca-p256');
const caSpki = testSpki('test-ca-p256');
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const notBefore = new Date(now.getTime() - 3_600_000);
const notAfter = new Date(now.getTime() + 365 * 86_400_000);

type Slip = 'none' | 'critical FALSE' | 'GeneralizedTime' | 'PrintableString' | 'subjectUniqueID';

/** A self-signed issuing CA, DER but for the one `slip`. */
function caCertificate(slip: Slip): Buffer {
  const name =
    slip === 'PrintableString'
      ? // '_' is outside PrintableString's character set.
        sequence(
          set(sequence(oid(OID.commonName), tlv(TAG.PRINTABLE_STRING, Buffer.from('Line_CA')))),
        )
      : testName([[OID.commonName, 'Line CA']]);
  const time = (d: Date) =>
    slip === 'GeneralizedTime'
      ? tlv(
          TAG.GENERALIZED_TIME,
          Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`),
        )
      : encodeTime(d);
  const ski = subjectKeyIdentifier(subjectPublicKeyBits(caSpki));
  const algorithm = signatureAlgorithm('ecdsa-sha256');
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    integerFromBytes(Uint8Array.of(0x0a, 0x0b)),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    caSpki,
    ...(slip === 'subjectUniqueID' ? [tlv(contextPrimitive(2), Uint8Array.of(0x00, 0x42))] : []),
    explicit(
      3,
      sequence(
        basicConstraints(true),
        keyUsage(KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign),
        slip === 'critical FALSE' ? withCriticalFalseWritten(ski) : ski,
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: caKey, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bitString(signature));
}

const pemOptions = (slip: Slip) => ({
  certificatePem: certificateToPem(caCertificate(slip)),
  privateKeyPem: caKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  wrapper,
  now,
});

const slips: [Slip, RegExp][] = [
  ['critical FALSE', /critical FALSE/],
  ['GeneralizedTime', /GeneralizedTime before 2050/],
  ['PrintableString', /PrintableString/],
  ['subjectUniqueID', /subjectUniqueID/],
];

describe('an issuing CA that is not strict DER', () => {
  it('the sound CA imports, unlocks and gives a leaf template (the fixture is otherwise fine)', async () => {
    const caDir = freshCaDir();
    await importIssuingCa(caDir, pemOptions('none'));
    const unlocked = await (await openCa(caDir, { now: () => now })).unlock(wrapper);
    const template = LeafTemplate.create({
      issuingCertificate: unlocked.issuingCertificateDer,
      profile: DEFAULT_LEAF_PROFILE,
      algorithm: unlocked.signer.algorithm,
    });
    const { tbs } = template.buildTbs({
      registrationId: TEST_ID,
      spki: testSpki('test-device-p256'),
      now,
    });
    expect(tbs.length).toBeGreaterThan(0);
  });

  it.each(slips)(
    'refuses at import a CA with a %s slip, naming it, and writes nothing',
    async (slip, part) => {
      // What used to let it through: both lenient parsers read it.
      const der = caCertificate(slip);
      expect(new X509Certificate(der).subject).toMatch(/Line.CA/);
      expect(new x509.X509Certificate(Uint8Array.from(der)).subject).toMatch(/Line.CA/);
      const caDir = freshCaDir();
      const refusal = importIssuingCa(caDir, pemOptions(slip));
      await expect(refusal).rejects.toMatchObject({
        name: 'CertError',
        code: 'CA_CERTIFICATE_NOT_DER',
        message: expect.stringMatching(/not strict DER.*re-issue/),
        detail: expect.stringMatching(part),
      });
      expect(existsSync(caDir) ? readdirSync(caDir) : []).toEqual([]);
    },
  );

  it.each(slips)(
    'refuses at unlock a CA with a %s slip stored before import checked it',
    async (slip, part) => {
      const caDir = freshCaDir();
      // As an import before this check wrote it: the record holds the certificate as given.
      await writeImportedCa(
        caDir,
        {
          certificateDer: caCertificate(slip),
          chainDer: [],
          keyAlgorithm: 'P-256',
          privateKey: caKey,
          now,
          issuesWithin: { notBefore, notAfter },
        },
        wrapper,
      );
      const ca = await openCa(caDir, { now: () => now });
      await expect(ca.unlock(wrapper)).rejects.toMatchObject({
        code: 'CA_CERTIFICATE_NOT_DER',
        detail: expect.stringMatching(part),
      });
      expect(ca.status().locked).toBe(true);
    },
  );
});
