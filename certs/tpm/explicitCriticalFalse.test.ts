import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificatesFromPem } from '../ca/pemCertificates.js';
import { CertError } from '../certErrors.js';
import { isProblem } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { boolean, octetString, oid, sequence, tlv, utf8String } from '../der/derWriter.js';
import {
  basicConstraints,
  buildTestCertificate,
  ekCertificateUsage,
  testName,
  withCriticalFalseWritten,
} from '../testing/testCertificates.js';
import {
  createTpmVendor,
  TEST_TPM,
  type TestTpm,
  type TpmVendor,
} from '../testing/tpmVendorKit.js';
import { OID } from '../x509/oids.js';
import { readCertificate } from '../x509/readCertificate.js';
import { checkEkCertificate } from './ekCertificate.js';
import { EkTrustStore, SHIPPED_EK_TRUST_FOLDER } from './ekTrustStore.js';
import { parseEkPublic } from './tpmPublic.js';
import { readVendorCertificate, type VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

let vendor: TpmVendor;
let rsa: TestTpm;
let ecc: TestTpm;
let trust: EkTrustStore;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST PTT Vendor' });
  rsa = await vendor.makeEk({ type: 'rsa', withCertificate: false });
  ecc = await vendor.makeEk({ type: 'ecc', withCertificate: false });
  trust = vendor.trust();
});

/** An extension's extnID, then `critical` written out as FALSE. */
function flagFalseAfter(extensionOid: string): Buffer {
  return Buffer.concat([oid(extensionOid), boolean(false)]);
}

async function outcome(tpm: TestTpm, certificateDer: Uint8Array): Promise<string> {
  try {
    await checkEkCertificate({ ek: parseEkPublic(tpm.ekPublic), certificateDer, trust });
    return 'accepted';
  } catch (err) {
    if (err instanceof CertError) return `${err.code}: ${err.detail}`;
    throw err;
  }
}

describe("an extension whose critical FALSE is written out, as Intel PTT and AMD fTPM EK certificates' are", () => {
  it('passes checkEkCertificate, signed by the vendor intermediate, with nothing noted', async () => {
    for (const tpm of [rsa, ecc]) {
      const ek = parseEkPublic(tpm.ekPublic);
      const der = vendor.issueEkCertificate(ek.spkiDer, { criticalFalseWritten: true });
      // The kit did write the flag out, on the marker the profile reads.
      expect(Buffer.from(der).includes(flagFalseAfter(OID.extKeyUsage))).toBe(true);
      expect(Buffer.from(der).includes(flagFalseAfter(OID.authorityKeyIdentifier))).toBe(true);
      const check = await checkEkCertificate({ ek, certificateDer: der, trust });
      expect(check).toEqual({
        chain: [
          'EK certificate issued by TEST PTT Vendor EK Intermediate CA',
          'TEST PTT Vendor EK Intermediate CA',
          'TEST PTT Vendor EK Root CA',
        ],
        vendorRoot: 'TEST PTT Vendor EK Root CA',
        certificateSha256: createHash('sha256').update(der).digest('hex'),
        notes: [],
        tpm: { ...TEST_TPM },
      });
      const read = readVendorCertificate(der) as VendorCertificate;
      expect(read.extensions.map((e) => [e.oid, e.critical])).toEqual([
        [OID.subjectAltName, true],
        [OID.basicConstraints, true],
        [OID.keyUsage, true],
        [OID.extKeyUsage, false],
        [OID.authorityKeyIdentifier, false],
      ]);
    }
  });

  it('is read as the extended key usage alone: the marker still counts', async () => {
    const der = vendor.issueEkCertificate(parseEkPublic(rsa.ekPublic).spkiDer, {
      criticalFalseWritten: true,
      tpmSubjectAltName: false,
    });
    expect(await outcome(rsa, der)).toBe('accepted');
  });

  it('is still refused by the strict X.509 reader that device CSRs and the station CA use', () => {
    const der = vendor.issueEkCertificate(parseEkPublic(ecc.ekPublic).spkiDer, {
      criticalFalseWritten: true,
      commonName: 'TEST PTT EK',
    });
    const strict = readCertificate(der);
    expect(isProblem(strict) && strict.reason).toBe('critical FALSE must be omitted in DER');
    // The same certificate in DER reads there.
    const plain = vendor.issueEkCertificate(parseEkPublic(ecc.ekPublic).spkiDer, {
      commonName: 'TEST PTT EK',
    });
    expect(isProblem(readCertificate(plain))).toBe(false);
  });

  it('changes nothing the signature covers: turning the written FALSE into TRUE breaks it', async () => {
    const der = Buffer.from(
      vendor.issueEkCertificate(parseEkPublic(rsa.ekPublic).spkiDer, {
        criticalFalseWritten: true,
      }),
    );
    const flag = flagFalseAfter(OID.extKeyUsage);
    const at = der.indexOf(flag) + flag.length - 1;
    der[at] = 0xff;
    expect(await outcome(rsa, der)).toMatch(/^EK_CERT_UNTRUSTED: .*the signature does not verify/);
  });
});

describe('extensions the EK path still refuses: EK_CERT_MALFORMED', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const eku = sequence(oid(VENDOR_OID.ekCertificate));

  /**
   * An EK-shaped certificate for `tpm`'s EK carrying `extensions` after CA:FALSE, signed by a
   * key of no CA: a malformed one is refused before any chain is looked for.
   */
  function carrying(tpm: TestTpm, ...extensions: Uint8Array[]): Buffer {
    return buildTestCertificate({
      serial: 7,
      issuer: testName([[OID.commonName, 'TEST PTT Vendor EK Intermediate CA']]),
      subject: testName([]),
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('9999-12-31T23:59:59Z'),
      spki: parseEkPublic(tpm.ekPublic).spkiDer,
      extensions: [basicConstraints(false), ...extensions],
      signer: key.privateKey,
      signature: 'ecdsa-sha384',
    });
  }

  it('a flag that is not a DER BOOLEAN, out of place, twice, or without extnValue', async () => {
    const cases: [string, Buffer, RegExp][] = [
      [
        'TRUE as 01 (BER)',
        sequence(oid(OID.extKeyUsage), tlv(TAG.BOOLEAN, Uint8Array.of(1)), octetString(eku)),
        /BOOLEAN not DER/,
      ],
      [
        'a two-octet BOOLEAN',
        sequence(oid(OID.extKeyUsage), tlv(TAG.BOOLEAN, Uint8Array.of(0, 0)), octetString(eku)),
        /BOOLEAN not DER/,
      ],
      [
        'an empty BOOLEAN',
        sequence(oid(OID.extKeyUsage), tlv(TAG.BOOLEAN), octetString(eku)),
        /BOOLEAN not DER/,
      ],
      [
        'FALSE after extnValue',
        sequence(oid(OID.extKeyUsage), octetString(eku), boolean(false)),
        /unexpected extra element/,
      ],
      [
        'FALSE twice',
        sequence(oid(OID.extKeyUsage), boolean(false), boolean(false), octetString(eku)),
        /expected tag 0x04, found 0x01/,
      ],
      [
        'no extnValue',
        sequence(oid(OID.extKeyUsage), boolean(false)),
        /missing element \(tag 0x04\)/,
      ],
      [
        'an extnValue that is no OCTET STRING',
        sequence(oid(OID.extKeyUsage), boolean(false), utf8String('2.23.133.8.1')),
        /expected tag 0x04, found 0x0c/,
      ],
    ];
    for (const [what, extension, reason] of cases) {
      const result = await outcome(rsa, carrying(rsa, extension));
      expect(result, what).toMatch(/^EK_CERT_MALFORMED: /);
      expect(result, what).toMatch(reason);
    }
  });

  it('the same extension twice, one of them with FALSE written out', async () => {
    const twice = carrying(
      ecc,
      withCriticalFalseWritten(ekCertificateUsage()),
      ekCertificateUsage(),
    );
    expect(await outcome(ecc, twice)).toMatch(
      /^EK_CERT_MALFORMED: extension 2\.5\.29\.37 appears twice/,
    );
  });

  it('a byte after the certificate, as before', async () => {
    const der = vendor.issueEkCertificate(parseEkPublic(ecc.ekPublic).spkiDer, {
      criticalFalseWritten: true,
    });
    expect(await outcome(ecc, Buffer.concat([der, Uint8Array.of(0)]))).toMatch(
      /^EK_CERT_MALFORMED: trailing bytes after the element/,
    );
  });
});

/**
 * A real Intel PTT RSA EK and its EK certificate, from tpm2-tools'
 * test/integration/tests/getekcertificate.sh (BSD-3-Clause): the TPM2B_PUBLIC it sends to
 * Intel's EK certificate service (https://ekop.intel.com/ekcertservice/) and the certificate
 * the service returns for it (the JSON answer whose MD5 that test checks, 56af9eb8…, decoded).
 * Public data: a public key and the certificate Intel issued for it.
 */
const INTEL_PTT_EK_PUBLIC = Buffer.from(
  [
    '013a0001000b000300b20020837197674484b3f81a90cc8d46a5d724fd52',
    'd76e06520b64f2a1da1b331469aa00060080004300100800000000000100',
    'c320e2f244a8601aacf3e01d26c665249935562de1da197e9e7f076c4696',
    '13cfb653e98ec2c386fc1d133f2c8c6cc338b732f0b208bd838a877a3e5b',
    'bc3e1d4084e835c7c8906a1c05b4d2d30fdbebc1dbad950fa6b165bd4b6a',
    '864603146164c0c4f59d489011ef1f928deea6e90061f3d375e564627315',
    '1ef622252098be1a4ab01dc0a12227c609fdaceb115af408d4693a6f4991',
    '9774695b0c12bc18a1ff7120a7337b2fb5f1951d8bb7f094d5b554c11c95',
    '23b30729fe64787d0a13b9e630488dab4dfd86634a5270ec72fcc5a44dc6',
    '79a8f32938dd8197e29dae839f5b4ca0f5de27c9522c23c54e1c2ce57859',
    '525118bd4470b18180eef78ae4267bcd',
  ].join(''),
  'hex',
);

const INTEL_PTT_EK_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIEnDCCBEOgAwIBAgIEfT80+DAKBggqhkjOPQQDAjCBlTELMAkGA1UEBgwCVVMx
CzAJBgNVBAgMAkNBMRQwEgYDVQQHDAtTYW50YSBDbGFyYTEaMBgGA1UECgwRSW50
ZWwgQ29ycG9yYXRpb24xLzAtBgNVBAsMJlRQTSBFSyBpbnRlcm1lZGlhdGUgZm9y
IFNQVEhfRVBJRF9QUk9EMRYwFAYDVQQDDA13d3cuaW50ZWwuY29tMB4XDTE1MDUy
MjAwMDAwMFoXDTQ5MTIzMTIzNTk1OVowADCCASIwDQYJKoZIhvcNAQEBBQADggEP
ADCCAQoCggEBAMMg4vJEqGAarPPgHSbGZSSZNVYt4doZfp5/B2xGlhPPtlPpjsLD
hvwdEz8sjGzDOLcy8LIIvYOKh3o+W7w+HUCE6DXHyJBqHAW00tMP2+vB262VD6ax
Zb1LaoZGAxRhZMDE9Z1IkBHvH5KN7qbpAGHz03XlZGJzFR72IiUgmL4aSrAdwKEi
J8YJ/azrEVr0CNRpOm9JkZd0aVsMErwYof9xIKczey+18ZUdi7fwlNW1VMEclSOz
Byn+ZHh9ChO55jBIjatN/YZjSlJw7HL8xaRNxnmo8yk43YGX4p2ug59bTKD13ifJ
UiwjxU4cLOV4WVJRGL1EcLGBgO73iuQme80CAwEAAaOCAkgwggJEMA8GA1UdEwEB
/wQFMAMBAQAwDgYDVR0PAQH/BAQDAgAgMBAGA1UdJQQJMAcGBWeBBQgBMCQGA1Ud
CQEBAAQaMBgwFgYFZ4EFAhAxDTALDAMyLjACAQACAWcwUAYDVR0RAQH/BEYwRKRC
MEAxFjAUBgVngQUCAQwLaWQ6NDk0RTU0NDMxDjAMBgVngQUCAgwDU1BUMRYwFAYF
Z4EFAgMMC2lkOjAwMDIwMDAwMB8GA1UdIwQYMBaAFF5zyJqj6QKycrnwdB99hzDj
7HJKMFgGA1UdHwRRME8wTaBLoEmGR2h0dHA6Ly91cGdyYWRlcy5pbnRlbC5jb20v
Y29udGVudC9DUkwvZWtjZXJ0L1NQVEhFUElEUFJPRF9FS19EZXZpY2UuY3JsMHAG
CCsGAQUFBwEBBGQwYjBgBggrBgEFBQcwAoZUaHR0cDovL3VwZ3JhZGVzLmludGVs
LmNvbS9jb250ZW50L0NSTC9la2NlcnQvU1BUSEVQSURQUk9EX0VLX1BsYXRmb3Jt
X1B1YmxpY19LZXkuY2VyMIGpBgNVHSAEgaEwgZ4wgZsGCiqGSIb4TQEFAgEwgYww
UgYIKwYBBQUHAgEWRmh0dHA6Ly91cGdyYWRlcy5pbnRlbC5jb20vY29udGVudC9D
UkwvZWtjZXJ0L0VLY2VydFBvbGljeVN0YXRlbWVudC5wZGYwNgYIKwYBBQUHAgIw
KgwoVENQQSBUcnVzdGVkIFBsYXRmb3JtIE1vZHVsZSBFbmRvcnNlbWVudDAKBggq
hkjOPQQDAgNHADBEAiBrQr0ckEoWsrx0971bppP6N8PTb4U6z/hIqpS6o150xAIg
NxZNXq7bCqU1b4hGdiSBauowiOVFcaaiTm1p99H/k1Q=
-----END CERTIFICATE-----
`;

describe('a real Intel PTT RSA EK certificate', () => {
  it('is accepted for its EK against the shipped Intel CAs, its FALSE flag and all', async () => {
    const [der] = certificatesFromPem(INTEL_PTT_EK_CERTIFICATE);
    // Subject Directory Attributes, critical FALSE written out: what refused it before.
    expect(Buffer.from(der!).includes(flagFalseAfter('2.5.29.9'))).toBe(true);
    const shipped = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
    const check = await checkEkCertificate({
      ek: parseEkPublic(INTEL_PTT_EK_PUBLIC),
      certificateDer: der!,
      trust: shipped,
      now: new Date('2025-06-01T00:00:00Z'),
    });
    expect(check).toEqual({
      chain: [
        'EK certificate issued by www.intel.com (Intel Corporation, TPM EK intermediate for SPTH_EPID_PROD)',
        'www.intel.com (Intel Corporation, TPM EK intermediate for SPTH_EPID_PROD)',
        'www.intel.com (Intel Corporation, TPM EK root cert signing)',
      ],
      vendorRoot: 'www.intel.com (Intel Corporation, TPM EK root cert signing)',
      certificateSha256: '5cf52f89de39f918ad8834310792c5eb78c29a206c0c7fbbab2bb34f67ec407a',
      notes: [],
      tpm: { manufacturer: 'id:494E5443', model: 'SPT', version: 'id:00020000' },
    });
    // Another TPM's EK with the same certificate is still refused.
    expect(
      await checkEkCertificate({
        ek: parseEkPublic(rsa.ekPublic),
        certificateDer: der!,
        trust: shipped,
      }).catch((err: CertError) => err.code),
    ).toBe('EK_CERT_KEY_MISMATCH');
  });
});
