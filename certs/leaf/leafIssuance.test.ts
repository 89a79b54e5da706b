import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertError } from '../certErrors.js';
import { issueBothWays, readCert, testCa } from '../fixtures/leafFixtures.js';
import { testSpki } from '../fixtures/testKeys.js';
import { DEFAULT_LEAF_PROFILE } from '../leafProfile.js';
import { SoftwareCaSigner } from '../softwareCaSigner.js';
import { issueLeafFast } from './issueLeafFast.js';
import { LeafTemplate } from './leafTemplate.js';

async function setUp(notAfter?: string) {
  const ca = await testCa('test-ca-p256', notAfter === undefined ? {} : { notAfter });
  const template = LeafTemplate.create({
    issuingCertificate: ca.der,
    profile: DEFAULT_LEAF_PROFILE,
    algorithm: ca.algorithm,
  });
  return { ca, template, signer: new SoftwareCaSigner(ca.key) };
}

/** The CertError code (or message) an issuance fails with, or 'issued'. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'issued',
    (e: unknown) => (e instanceof CertError ? e.code : String(e)),
  );

describe('leaf validity', () => {
  it('starts 60 s before now, in whole seconds, and never outlives the issuing CA', async () => {
    const ca = await testCa('test-ca-p256', { notAfter: '2026-01-01T00:00:00Z' });
    const { ours } = await issueBothWays(ca, 'test-device-p256', {
      now: '2025-06-01T12:00:30.999Z',
    });
    expect(ours.notBefore.toISOString()).toBe('2025-06-01T11:59:30.000Z');
    expect(ours.notAfter.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const short = await issueBothWays(ca, 'test-device-p256', {
      now: '2025-06-01T12:00:30Z',
      profile: { validityDays: 30 },
    });
    expect(short.ours.notAfter.toISOString()).toBe('2025-07-01T11:59:30.000Z');
  });

  it('never starts before the issuing CA: one issued in its first minute starts with it', async () => {
    // testCa starts 2024-01-01T00:00:00Z; now − 60 s would be 23:59:30 the day before.
    const ca = await testCa('test-ca-p256');
    const { ours, reference } = await issueBothWays(ca, 'test-device-p256', {
      now: '2024-01-01T00:00:30.500Z',
    });
    expect(ours.notBefore.getTime()).toBe(readCert(ca.der).notBefore.getTime());
    expect(ours.notAfter.toISOString()).toBe('2026-12-31T00:00:00.000Z');
    expect(Buffer.from(ours.tbs)).toEqual(Buffer.from(reference.tbs));
    // Past the CA's first minute the skew applies unchanged.
    const later = await issueBothWays(ca, 'test-device-p256', { now: '2024-01-01T00:01:30.500Z' });
    expect(later.ours.notBefore.toISOString()).toBe('2024-01-01T00:00:30.000Z');
  });
});

describe('leaf validity under a chain that ends first', () => {
  it('never outlives a CA above the issuing one', async () => {
    const ca = await testCa('test-ca-p256', { notAfter: '2030-01-01T00:00:00Z' });
    const template = LeafTemplate.create({
      issuingCertificate: ca.der,
      profile: DEFAULT_LEAF_PROFILE,
      algorithm: ca.algorithm,
      chainNotAfter: new Date('2026-03-01T00:00:00Z'),
    });
    const leaf = await issueLeafFast(template, new SoftwareCaSigner(ca.key), {
      registrationId: 'dev-1',
      spki: testSpki('test-device-p256'),
      now: new Date('2025-06-01T12:00:00Z'),
    });
    expect(readCert(leaf.certificateDer).notAfter.toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('never starts before a CA above the issuing one that starts later', async () => {
    const ca = await testCa('test-ca-p256');
    const template = LeafTemplate.create({
      issuingCertificate: ca.der,
      profile: DEFAULT_LEAF_PROFILE,
      algorithm: ca.algorithm,
      chainNotBefore: new Date('2025-06-01T12:00:00Z'),
    });
    const leaf = await issueLeafFast(template, new SoftwareCaSigner(ca.key), {
      registrationId: 'dev-1',
      spki: testSpki('test-device-p256'),
      now: new Date('2025-06-01T12:00:10Z'),
    });
    expect(readCert(leaf.certificateDer).notBefore.toISOString()).toBe('2025-06-01T12:00:00.000Z');
  });
});

describe('leaf serial numbers', () => {
  it('writes a fresh 16-byte positive INTEGER for each leaf', async () => {
    const { template, signer } = await setUp();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const leaf = await issueLeafFast(template, signer, {
        registrationId: 'dev-1',
        spki: testSpki('test-device-p256'),
      });
      const cert = readCert(leaf.certificateDer);
      expect(cert.serialNumber.length).toBe(16);
      expect(Buffer.from(cert.serialNumber)).toEqual(Buffer.from(leaf.serialNumber));
      seen.add(Buffer.from(cert.serialNumber).toString('hex'));
    }
    expect(seen.size).toBe(50);
  });
});

describe('leaf refusals', () => {
  const spki = testSpki('test-device-p256');
  const at = (iso: string) => Date.parse(iso);

  it('refuses a registration ID DPS would not accept', async () => {
    const { template, signer } = await setUp();
    for (const registrationId of ['Dev-1', 'a'.repeat(65), 'dev 1', 'dev-']) {
      const issued = issueLeafFast(template, signer, { registrationId, spki });
      expect(await outcome(issued)).toBe('CSR_REGISTRATION_ID_INVALID');
    }
  });

  it('refuses while the issuing CA is expired or not yet valid', async () => {
    const { template, signer } = await setUp('2026-01-01T00:00:00Z');
    const issue = (now: number) =>
      outcome(issueLeafFast(template, signer, { registrationId: 'dev-1', spki, now }));
    expect(await issue(at('2025-12-31T23:59:59Z'))).toBe('issued');
    expect(await issue(at('2026-01-01T00:00:00Z'))).toBe('CA_EXPIRED');
    expect(await issue(at('2023-12-31T23:59:59Z'))).toBe('CA_NOT_YET_VALID');
  });

  it('refuses a signer holding another key or using another algorithm', async () => {
    const { ca, template } = await setUp();
    const req = { registrationId: 'dev-1', spki, now: at('2025-01-01') };
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await outcome(issueLeafFast(template, new SoftwareCaSigner(otherKey), req))).toMatch(
      /does not hold the issuing CA key/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expect(await outcome(issueLeafFast(template, new SoftwareCaSigner(p384), req))).toMatch(
      /ecdsa-with-SHA384; the template was built for ecdsa-with-SHA256/,
    );
    expect(() =>
      LeafTemplate.create({
        issuingCertificate: ca.der,
        profile: DEFAULT_LEAF_PROFILE,
        algorithm: 'sha256WithRSAEncryption',
      }),
    ).toThrow(CertError);
  });
});
