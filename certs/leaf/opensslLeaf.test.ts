import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Crypto } from '@peculiar/webcrypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCsr } from '../csr/checkCsr.js';
import { openssl, opensslCsr, opensslMissing, tempDir } from '../fixtures/openssl.js';
import { DEFAULT_LEAF_PROFILE, type LeafProfile } from '../leafProfile.js';
import { createInMemoryCa, issuingPrivateKey, type InMemoryCa } from '../referenceIssuer.js';
import { SoftwareCaSigner } from '../softwareCaSigner.js';
import { issueLeafFast } from './issueLeafFast.js';
import { LeafTemplate } from './leafTemplate.js';

/**
 * The fast path checked by the real thing: a CSR made by `openssl req`, a leaf issued from it,
 * and `openssl verify` / `openssl x509 -text` judging the result against a root and issuing CA
 * made by the reference issuer (@peculiar/x509).
 */

const ID = 'ls-demo-1-sim000042';
const PROFILE: LeafProfile = {
  ...DEFAULT_LEAF_PROFILE,
  subjectAltNames: { dns: ['{registrationId}.devices.example.com'], uri: [] },
};

const pem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END ${label}-----\n`;

const suiteName = opensslMissing
  ? `leaves from the fast path under openssl: SKIPPED, ${opensslMissing}`
  : 'leaves from the fast path under openssl';

describe.skipIf(opensslMissing !== undefined)(suiteName, () => {
  let dir = '';
  let remove = async (): Promise<void> => {};
  let ca: InMemoryCa;
  let template: LeafTemplate;
  let signer: SoftwareCaSigner;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    ca = await createInMemoryCa(new Crypto(), 'Line Station OPENSSL TEST');
    signer = new SoftwareCaSigner(await issuingPrivateKey(ca));
    template = LeafTemplate.create({
      issuingCertificate: new Uint8Array(ca.issuing.rawData),
      profile: PROFILE,
      algorithm: signer.algorithm,
    });
    await writeFile(join(dir, 'root.pem'), pem('CERTIFICATE', new Uint8Array(ca.root.rawData)));
    await writeFile(
      join(dir, 'issuing.pem'),
      pem('CERTIFICATE', new Uint8Array(ca.issuing.rawData)),
    );
  });
  afterAll(() => remove());

  async function issueFromOpensslCsr(keyArgs: string[], file: string): Promise<string> {
    const csr = await opensslCsr(dir, `/CN=${ID}`, keyArgs);
    const { parsed } = await checkCsr(csr, { expectedRegistrationId: ID, profile: PROFILE });
    const leaf = await issueLeafFast(template, signer, {
      registrationId: ID,
      spki: parsed.spki.raw,
    });
    await writeFile(join(dir, file), pem('CERTIFICATE', leaf.certificateDer));
    return file;
  }

  it('a P-256 leaf verifies to the root and reads as a device client certificate', async () => {
    const leaf = await issueFromOpensslCsr(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'leaf.pem',
    );
    const verified = await openssl(
      ['verify', '-CAfile', 'root.pem', '-untrusted', 'issuing.pem', '-purpose', 'sslclient', leaf],
      dir,
    );
    expect(verified.trim()).toBe(`${leaf}: OK`);

    const text = await openssl(['x509', '-in', leaf, '-text', '-noout'], dir);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Client Authentication\n/);
    expect(text).toContain(`Subject: CN = ${ID}\n`);
    expect(text).toContain('Issuer: CN = Line Station OPENSSL TEST Issuing CA');
    expect(text).toContain(`DNS:${ID}.devices.example.com`);
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');

    const serial = /Serial Number:\s*\n\s*([0-9a-f:]+)\n/.exec(text)?.[1];
    expect(serial?.split(':')).toHaveLength(16);

    // AKI of the leaf is the SKI of the issuing CA; the leaf's own SKI is present.
    const issuingText = await openssl(['x509', '-in', 'issuing.pem', '-text', '-noout'], dir);
    const ski = (t: string) => /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(t)?.[1];
    const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    expect(ski(text)).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(aki).toBe(ski(issuingText));

    const end = async (file: string) =>
      Date.parse((await openssl(['x509', '-in', file, '-noout', '-enddate'], dir)).split('=')[1]!);
    const leafEnd = await end(leaf);
    expect(leafEnd).toBeLessThanOrEqual(await end('issuing.pem'));
    expect(leafEnd).toBeGreaterThan(Date.now());
  });

  it('P-384 and RSA-2048 device keys verify too', async () => {
    const rsaProfile: LeafProfile = { ...PROFILE, allowedKeys: [{ kty: 'RSA', minBits: 2048 }] };
    const p384 = await issueFromOpensslCsr(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      'p384.pem',
    );
    const rsaCsr = await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'rsa:2048']);
    const { parsed } = await checkCsr(rsaCsr, { expectedRegistrationId: ID, profile: rsaProfile });
    const rsaLeaf = await issueLeafFast(template, signer, {
      registrationId: ID,
      spki: parsed.spki.raw,
    });
    await writeFile(join(dir, 'rsa.pem'), pem('CERTIFICATE', rsaLeaf.certificateDer));
    for (const leaf of [p384, 'rsa.pem']) {
      const verified = await openssl(
        ['verify', '-CAfile', 'root.pem', '-untrusted', 'issuing.pem', leaf],
        dir,
      );
      expect(verified.trim()).toBe(`${leaf}: OK`);
    }
  });

  it('openssl refuses a leaf whose signature was damaged (the check can fail)', async () => {
    const csr = await opensslCsr(dir, `/CN=${ID}`, [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
    ]);
    const { parsed } = await checkCsr(csr, { expectedRegistrationId: ID, profile: PROFILE });
    const leaf = await issueLeafFast(template, signer, {
      registrationId: ID,
      spki: parsed.spki.raw,
    });
    const damaged = Buffer.from(leaf.certificateDer);
    damaged[damaged.length - 1]! ^= 0x01;
    await writeFile(join(dir, 'damaged.pem'), pem('CERTIFICATE', damaged));
    await expect(
      openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'issuing.pem', 'damaged.pem'], dir),
    ).rejects.toThrow(/certificate signature failure|signature/i);
  });
});
