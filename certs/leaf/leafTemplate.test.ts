import { describe, expect, it } from 'vitest';
import {
  issueBothWays,
  signedBy,
  testCa,
  TEST_SANS,
  type TestCaName,
} from '../fixtures/leafFixtures.js';
import type { TestKeyName } from '../fixtures/testKeys.js';
import { OID } from '../x509/oids.js';
import type { CertificateReading } from '../x509/readCertificate.js';

/**
 * The fast path's TBSCertificate against @peculiar/x509's for the same inputs, byte for byte.
 * Signatures are randomized (ECDSA), so the TBS is compared and both signatures are verified.
 */

type Case = [name: string, ca: TestCaName, device: TestKeyName, now: string, sans: boolean];

const cases: Case[] = [
  [
    'P-256 device, P-256 CA, no SANs',
    'test-ca-p256',
    'test-device-p256',
    '2025-06-01T12:00:30.750Z',
    false,
  ],
  [
    'P-256 device, P-256 CA, SANs',
    'test-ca-p256',
    'test-device-p256',
    '2025-06-01T12:00:30.750Z',
    true,
  ],
  [
    'P-384 device, P-256 CA, SANs',
    'test-ca-p256',
    'test-device-p384',
    '2025-06-01T12:00:00Z',
    true,
  ],
  [
    'RSA-2048 device, P-256 CA, no SANs',
    'test-ca-p256',
    'test-device-rsa2048',
    '2025-06-01T12:00:00Z',
    false,
  ],
  [
    'RSA-2048 device, P-256 CA, SANs',
    'test-ca-p256',
    'test-device-rsa2048',
    '2030-02-28T23:59:59Z',
    true,
  ],
  [
    'P-256 device, P-384 CA (SHA-384)',
    'test-ca-p384',
    'test-device-p256',
    '2025-06-01T12:00:00Z',
    true,
  ],
  [
    'P-384 device, RSA-2048 CA',
    'test-ca-rsa2048',
    'test-device-p384',
    '2025-06-01T12:00:00Z',
    false,
  ],
  [
    'validity across 2050 (UTCTime, then GeneralizedTime)',
    'test-ca-p256',
    'test-device-p256',
    '2049-12-31T23:30:00Z',
    true,
  ],
  [
    'validity after 2050 (GeneralizedTime both)',
    'test-ca-p256',
    'test-device-p256',
    '2055-03-01T00:00:00Z',
    false,
  ],
];

describe('leaf TBS byte for byte against @peculiar/x509', () => {
  it.each(cases)('%s', async (_name, caName, device, now, withSans) => {
    const ca = await testCa(caName);
    const { ours, reference } = await issueBothWays(ca, device, {
      now,
      profile: withSans ? { subjectAltNames: TEST_SANS } : {},
    });
    expect(Buffer.from(ours.tbs).toString('hex')).toBe(Buffer.from(reference.tbs).toString('hex'));
    expect(Buffer.from(ours.signatureAlgorithm.raw)).toEqual(
      Buffer.from(reference.signatureAlgorithm.raw),
    );
    expect(signedBy(ours, ca)).toBe(true);
    expect(signedBy(reference, ca)).toBe(true);
    expect(ours.extensions.map((e) => e.oid)).toEqual([
      OID.basicConstraints,
      OID.keyUsage,
      OID.extKeyUsage,
      OID.subjectKeyIdentifier,
      OID.authorityKeyIdentifier,
      ...(withSans ? [OID.subjectAltName] : []),
    ]);
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050', async () => {
    const ca = await testCa('test-ca-p256');
    const { ours, issued } = await issueBothWays(ca, 'test-device-p256', {
      now: '2049-12-31T23:30:00Z',
    });
    const hex = Buffer.from(ours.tbs).toString('hex');
    expect(issued.notBefore.toISOString()).toBe('2049-12-31T23:29:00.000Z');
    expect(hex).toContain('170d' + Buffer.from('491231232900Z').toString('hex'));
    expect(hex).toContain('180f' + Buffer.from('20521230232900Z').toString('hex'));
  });

  it('takes the AKI from the SHA-1 of the CA key bits when the CA certificate has no SKI', async () => {
    const ca = await testCa('test-ca-p256', { withSki: false });
    const { ours, reference } = await issueBothWays(ca, 'test-device-p256', {
      now: '2025-06-01T00:00:00Z',
    });
    expect(Buffer.from(ours.tbs)).toEqual(Buffer.from(reference.tbs));
    const withSki = await testCa('test-ca-p256');
    const other = await issueBothWays(withSki, 'test-device-p256', {
      now: '2025-06-01T00:00:00Z',
    });
    const aki = (c: CertificateReading) =>
      c.extensions.find((e) => e.oid === OID.authorityKeyIdentifier)?.value;
    // @peculiar made the CA's SKI the same way (SHA-1 of the key bits), so both AKIs agree.
    expect(Buffer.from(aki(ours)!)).toEqual(Buffer.from(aki(other.ours)!));
  });
});
