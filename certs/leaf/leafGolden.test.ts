import { describe, expect, it } from 'vitest';
import { buildCsr } from '../csr/buildCsr.js';
import { parseCsr } from '../csr/parseCsr.js';
import {
  issueBothWays,
  readCert,
  testCa,
  TEST_ID,
  TEST_SANS,
  type TestCaName,
} from '../fixtures/leafFixtures.js';
import { goldenHex, testPrivateKey, testSpki, type TestKeyName } from '../fixtures/testKeys.js';

/**
 * Fixed keys, serial and dates against DER checked in under certs/fixtures/golden/: if either
 * the station's encoder or @peculiar/x509 changes what it writes, one of these fails and says
 * which. RSA PKCS#1 v1.5 signatures are deterministic, so the RSA cases compare whole
 * certificates; ECDSA ones are randomized, so those compare the TBSCertificate.
 */

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function setUp(caName: TestCaName, device: TestKeyName, now: string, sans: boolean) {
  const ca = await testCa(caName);
  const both = await issueBothWays(ca, device, {
    now,
    profile: sans ? { subjectAltNames: TEST_SANS } : {},
  });
  return {
    caDer: ca.der,
    ours: both.issued.certificateDer,
    reference: both.referenceDer,
    tbsOf: (der: Uint8Array) => hex(readCert(der).tbs),
  };
}

describe('golden DER', () => {
  it('RSA CA certificate (@peculiar/x509, fixed key, serial and dates)', async () => {
    const { caDer } = await setUp(
      'test-ca-rsa2048',
      'test-device-rsa2048',
      '2025-06-01T12:00:00Z',
      true,
    );
    expect(hex(caDer)).toBe(goldenHex('ca-rsa2048.cert'));
  });

  it('whole leaf certificate, RSA CA and RSA device key with SANs: ours and @peculiar', async () => {
    const { ours, reference } = await setUp(
      'test-ca-rsa2048',
      'test-device-rsa2048',
      '2025-06-01T12:00:00Z',
      true,
    );
    expect(hex(ours)).toBe(goldenHex('leaf-rsa-ca-rsa-device.cert'));
    expect(hex(reference)).toBe(goldenHex('leaf-rsa-ca-rsa-device.cert'));
  });

  it('leaf TBS, P-256 CA and device with SANs: ours and @peculiar', async () => {
    const s = await setUp('test-ca-p256', 'test-device-p256', '2025-06-01T12:00:00Z', true);
    expect(s.tbsOf(s.ours)).toBe(goldenHex('leaf-p256-ca-p256-device.tbs'));
    expect(s.tbsOf(s.reference)).toBe(goldenHex('leaf-p256-ca-p256-device.tbs'));
  });

  it('leaf TBS, P-384 CA and device in 2055 (GeneralizedTime): ours and @peculiar', async () => {
    const s = await setUp('test-ca-p384', 'test-device-p384', '2055-06-01T12:00:00Z', false);
    expect(s.tbsOf(s.ours)).toBe(goldenHex('leaf-p384-ca-p384-device-2055.tbs'));
    expect(s.tbsOf(s.reference)).toBe(goldenHex('leaf-p384-ca-p384-device-2055.tbs'));
  });

  it('RSA-2048 CSR from buildCsr, and parseCsr reads it back', () => {
    const der = buildCsr({
      privateKey: testPrivateKey('test-device-rsa2048'),
      commonName: TEST_ID,
    });
    expect(hex(der)).toBe(goldenHex('csr-rsa2048'));
    const parsed = parseCsr(Buffer.from(goldenHex('csr-rsa2048'), 'hex'));
    expect(parsed.commonName.value).toBe(TEST_ID);
    expect(parsed.spki.key).toEqual({ kty: 'RSA', bits: 2048, exponentAllowed: true });
    expect(hex(parsed.spki.raw)).toBe(hex(testSpki('test-device-rsa2048')));
  });
});
