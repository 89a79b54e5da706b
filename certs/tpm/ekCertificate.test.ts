import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertError } from '../certErrors.js';
import { bitString, oid, sequence } from '../der/derWriter.js';
import {
  KEY_USAGE,
  subjectPublicKeyBits,
  type TestSignature,
} from '../testing/testCertificates.js';
import {
  createTpmVendor,
  TEST_TPM,
  type EkCertificateOptions,
  type TestTpm,
  type TpmVendor,
} from '../testing/tpmVendorKit.js';
import { checkEkCertificate, MAX_EK_CERTIFICATE_BYTES } from './ekCertificate.js';
import { buildEkChain } from './ekChain.js';
import { EkTrustStore } from './ekTrustStore.js';
import { parseEkPublic, type EkPublic } from './tpmPublic.js';
import { readVendorCertificate, type VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

let vendor: TpmVendor;
let rsa: TestTpm;
let ecc: TestTpm;
let trust: EkTrustStore;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST EK Vendor' });
  rsa = await vendor.makeEk({ type: 'rsa' });
  ecc = await vendor.makeEk({ type: 'ecc' });
  trust = vendor.trust();
});

const parsed = new WeakMap<Uint8Array, EkPublic>();
/** The EK of `tpm`, parsed once. */
function ekOf(tpm: TestTpm): EkPublic {
  const ek = parsed.get(tpm.ekPublic) ?? parseEkPublic(tpm.ekPublic);
  parsed.set(tpm.ekPublic, ek);
  return ek;
}

/** The refusal code for `certificateDer` offered with `tpm`'s EK, or 'accepted'. */
async function outcome(
  tpm: TestTpm,
  certificateDer: Uint8Array,
  store: EkTrustStore = trust,
  now?: Date,
): Promise<string> {
  try {
    await checkEkCertificate({ ek: ekOf(tpm), certificateDer, trust: store, now });
    return 'accepted';
  } catch (err) {
    if (err instanceof CertError) return err.code;
    throw err;
  }
}

async function refusal(
  tpm: TestTpm,
  certificateDer: Uint8Array,
  store: EkTrustStore = trust,
): Promise<CertError> {
  try {
    await checkEkCertificate({ ek: ekOf(tpm), certificateDer, trust: store });
  } catch (err) {
    if (err instanceof CertError) return err;
    throw err;
  }
  throw new Error('the certificate was accepted');
}

describe('checkEkCertificate accepts EK certificates of a trusted vendor', () => {
  it('checks an RSA and an ECC EK certificate up to the vendor root', async () => {
    for (const tpm of [rsa, ecc]) {
      const check = await checkEkCertificate({
        ek: parseEkPublic(tpm.ekPublic),
        certificateDer: tpm.ekCertificate!,
        trust,
      });
      expect(check).toEqual({
        chain: [
          'EK certificate issued by TEST EK Vendor EK Intermediate CA',
          'TEST EK Vendor EK Intermediate CA',
          'TEST EK Vendor EK Root CA',
        ],
        vendorRoot: 'TEST EK Vendor EK Root CA',
        certificateSha256: createHash('sha256').update(tpm.ekCertificate!).digest('hex'),
        notes: [],
        tpm: { manufacturer: 'id:54455354', model: 'TEST TPM', version: 'id:00010002' },
      });
    }
  });

  it('verifies every signature algorithm vendors use, noting SHA-1', async () => {
    const cases: ['p256' | 'p384' | 'rsa', TestSignature][] = [
      ['rsa', 'rsa-pkcs1-sha1'],
      ['rsa', 'rsa-pkcs1-sha256'],
      ['rsa', 'rsa-pkcs1-sha384'],
      ['rsa', 'rsa-pkcs1-sha512'],
      ['rsa', 'rsa-pss-sha256'],
      ['rsa', 'rsa-pss-sha384'],
      ['p256', 'ecdsa-sha256'],
      ['p384', 'ecdsa-sha384'],
      ['p384', 'ecdsa-sha512'],
    ];
    for (const [caKey, signature] of cases) {
      const signer = await createTpmVendor({ name: `TEST ${signature}`, caKey, signature });
      const tpm = await signer.makeEk({ type: 'ecc' });
      const check = await checkEkCertificate({
        ek: parseEkPublic(tpm.ekPublic),
        certificateDer: tpm.ekCertificate!,
        trust: signer.trust(),
      });
      expect(check.vendorRoot, signature).toBe(`TEST ${signature} EK Root CA`);
      expect(
        check.notes.some((n) => n.includes('SHA-1')),
        signature,
      ).toBe(signature === 'rsa-pkcs1-sha1');
    }
  });

  it('accepts an RSA EK certificate that labels the key RSAES-OAEP', async () => {
    const rsaPublicKey = subjectPublicKeyBits(parseEkPublic(rsa.ekPublic).spkiDer);
    const oaepSpki = sequence(sequence(oid(VENDOR_OID.rsaesOaep)), bitString(rsaPublicKey));
    expect(await outcome(rsa, vendor.issueEkCertificate(oaepSpki))).toBe('accepted');
    // The same label on another key is still another key.
    const other = subjectPublicKeyBits(
      parseEkPublic((await vendor.makeEk({ withCertificate: false })).ekPublic).spkiDer,
    );
    const otherSpki = sequence(sequence(oid(VENDOR_OID.rsaesOaep)), bitString(other));
    expect(await outcome(rsa, vendor.issueEkCertificate(otherSpki))).toBe('EK_CERT_KEY_MISMATCH');
  });
});

describe('checkEkCertificate refuses', () => {
  it('EK_CERT_MALFORMED: over 8 KiB, cut at any byte, with a byte after it, or not DER', async () => {
    const oversized = new Uint8Array(MAX_EK_CERTIFICATE_BYTES + 1);
    expect(await refusal(rsa, oversized)).toMatchObject({
      code: 'EK_CERT_MALFORMED',
      detail: '8193 bytes; at most 8192',
    });
    const der = ecc.ekCertificate!;
    for (let cut = 0; cut < der.length; cut++) {
      expect(await outcome(ecc, der.subarray(0, cut)), `cut at ${cut}`).toBe('EK_CERT_MALFORMED');
    }
    expect(await outcome(ecc, Uint8Array.from([...der, 0xff]))).toBe('EK_CERT_MALFORMED');
    expect(await outcome(ecc, new TextEncoder().encode('-----BEGIN CERTIFICATE-----'))).toBe(
      'EK_CERT_MALFORMED',
    );
  });

  it("EK_CERT_KEY_MISMATCH: another TPM's certificate, or the RSA certificate for the ECC EK", async () => {
    const another = await vendor.makeEk({ type: 'rsa' });
    expect(await outcome(rsa, another.ekCertificate!)).toBe('EK_CERT_KEY_MISMATCH');
    expect(await outcome(ecc, rsa.ekCertificate!)).toBe('EK_CERT_KEY_MISMATCH');
  });

  it('EK_NOT_AN_ENDORSEMENT_KEY: a CA certificate for the EK', async () => {
    const asCa = vendor.issueEkCertificate(parseEkPublic(ecc.ekPublic).spkiDer, { ca: true });
    expect(await refusal(ecc, asCa)).toMatchObject({
      code: 'EK_NOT_AN_ENDORSEMENT_KEY',
      detail: expect.stringMatching(/CA certificate/) as unknown,
    });
  });

  it('EK_CERT_UNTRUSTED: another vendor, naming the issuer it could not find', async () => {
    const stranger = await createTpmVendor({ name: 'TEST Grey Market' });
    const tpm = await stranger.makeEk({ type: 'ecc' });
    expect(await refusal(tpm, tpm.ekCertificate!)).toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringContaining(
        'no CA named "TEST Grey Market EK Intermediate CA"',
      ) as unknown,
    });
  });

  it('EK_CERT_UNTRUSTED: a vendor of the same names but other keys, and a signature changed by one bit', async () => {
    const twin = await createTpmVendor({ name: 'TEST EK Vendor' });
    const tpm = await twin.makeEk({ type: 'ecc' });
    expect(await refusal(tpm, tpm.ekCertificate!)).toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringMatching(
        /did not sign "EK certificate issued by TEST EK Vendor EK Intermediate CA": the signature does not verify/,
      ) as unknown,
    });
    const flipped = Uint8Array.from(rsa.ekCertificate!);
    flipped[flipped.length - 5]! ^= 0x01;
    expect(await outcome(rsa, flipped)).toBe('EK_CERT_UNTRUSTED');
  });

  it('EK_CERT_UNTRUSTED: a store missing the intermediate, or missing the root', async () => {
    const onlyRoot = EkTrustStore.fromPems([{ name: 'root', pem: vendor.rootPem }]);
    expect((await refusal(ecc, ecc.ekCertificate!, onlyRoot)).detail).toContain(
      'no CA named "TEST EK Vendor EK Intermediate CA"',
    );
    const onlyIntermediate = EkTrustStore.fromPems([
      { name: 'intermediate', pem: vendor.intermediatePem },
    ]);
    expect((await refusal(ecc, ecc.ekCertificate!, onlyIntermediate)).detail).toContain(
      'no CA named "TEST EK Vendor EK Root CA"',
    );
  });

  it('EK_CERT_EXPIRED and EK_CERT_NOT_YET_VALID, by the EK certificate own dates, at the given time', async () => {
    const now = Date.now();
    const expired = await vendor.makeEk({
      type: 'ecc',
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now - 60_000),
    });
    expect(await outcome(expired, expired.ekCertificate!)).toBe('EK_CERT_EXPIRED');
    const early = await vendor.makeEk({ type: 'ecc', notBefore: new Date(now + 86_400_000) });
    expect(await outcome(early, early.ekCertificate!)).toBe('EK_CERT_NOT_YET_VALID');
    // The same certificates, checked at a time inside their validity.
    expect(await outcome(expired, expired.ekCertificate!, trust, new Date(now - 1_800_000))).toBe(
      'accepted',
    );
    expect(await outcome(early, early.ekCertificate!, trust, new Date(now + 2 * 86_400_000))).toBe(
      'accepted',
    );
  });
});

describe('checkEkCertificate refuses what is not an EK certificate: EK_CERT_NOT_AN_EK_CERTIFICATE', () => {
  /** A certificate from the trusted intermediate for `tpm`'s EK, shaped by `options`. */
  function issuedFor(tpm: TestTpm, options: EkCertificateOptions): Uint8Array {
    return vendor.issueEkCertificate(ekOf(tpm).spkiDer, options);
  }

  it('refuses a TLS-style leaf for the EK from a trusted CA, whose chain alone would pass', async () => {
    for (const tpm of [rsa, ecc]) {
      const web = issuedFor(tpm, {
        commonName: 'web-01',
        keyUsage: [KEY_USAGE.digitalSignature],
        tpmSubjectAltName: false,
        ekUsage: false,
      });
      // The key is the EK's and the vendor signed it: only its profile tells it apart.
      const read = readVendorCertificate(web) as VendorCertificate;
      expect(buildEkChain(read, trust, new Date()).cas).toHaveLength(2);
      const err = await refusal(tpm, web);
      expect(err).toMatchObject({
        code: 'EK_CERT_NOT_AN_EK_CERTIFICATE',
        message:
          "The device's TPM certificate is not an endorsement key certificate. Set the device aside for engineering.",
      });
      expect(err.detail).toBe(
        '"web-01": it carries neither the TCG EK certificate extended key usage (2.23.133.8.1) ' +
          'nor a subjectAltName naming the TPM manufacturer (2.23.133.2.1): no extended key ' +
          'usage; no subjectAltName',
      );
    }
  });

  it('refuses an EK-shaped certificate without either TCG marker, whatever its keyUsage', async () => {
    const bare = issuedFor(rsa, { tpmSubjectAltName: false, ekUsage: false });
    expect(await outcome(rsa, bare)).toBe('EK_CERT_NOT_AN_EK_CERTIFICATE');
    const noUsage = issuedFor(ecc, { tpmSubjectAltName: false, ekUsage: false, keyUsage: [] });
    expect(await outcome(ecc, noUsage)).toBe('EK_CERT_NOT_AN_EK_CERTIFICATE');
  });

  it('accepts the extended key usage alone, and the subjectAltName alone', async () => {
    for (const tpm of [rsa, ecc]) {
      const ekuOnly = await checkEkCertificate({
        ek: ekOf(tpm),
        certificateDer: issuedFor(tpm, { tpmSubjectAltName: false }),
        trust,
      });
      expect(ekuOnly.vendorRoot).toBe('TEST EK Vendor EK Root CA');
      expect(ekuOnly.tpm).toBeUndefined();
      const sanOnly = await checkEkCertificate({
        ek: ekOf(tpm),
        certificateDer: issuedFor(tpm, { ekUsage: false }),
        trust,
      });
      expect(sanOnly.tpm).toEqual({ ...TEST_TPM });
    }
  });

  it('refuses an RSA EK certificate whose keyUsage allows signing only', async () => {
    const signing = issuedFor(rsa, { keyUsage: [KEY_USAGE.digitalSignature] });
    expect(await refusal(rsa, signing)).toMatchObject({
      code: 'EK_CERT_NOT_AN_EK_CERTIFICATE',
      detail:
        '"EK certificate issued by TEST EK Vendor EK Intermediate CA": its keyUsage allows ' +
        'digitalSignature only; the certificate of an RSA EK must allow keyEncipherment',
    });
    // Signing beside the EK's own use is the vendor's business, not a reason to refuse.
    const both = issuedFor(rsa, {
      keyUsage: [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment],
    });
    expect(await outcome(rsa, both)).toBe('accepted');
    expect(await outcome(rsa, issuedFor(rsa, { keyUsage: [] }))).toBe('accepted');
  });

  it("asks an ECC EK's certificate for keyAgreement, which keyEncipherment does not replace", async () => {
    const encipher = issuedFor(ecc, { keyUsage: [KEY_USAGE.keyEncipherment] });
    expect((await refusal(ecc, encipher)).detail).toMatch(
      /keyUsage allows keyEncipherment only; the certificate of an ECC EK must allow keyAgreement$/,
    );
    const signing = issuedFor(ecc, { keyUsage: [KEY_USAGE.digitalSignature] });
    expect(await outcome(ecc, signing)).toBe('EK_CERT_NOT_AN_EK_CERTIFICATE');
    const agreement = issuedFor(ecc, {
      keyUsage: [KEY_USAGE.digitalSignature, KEY_USAGE.keyAgreement],
    });
    expect(await outcome(ecc, agreement)).toBe('accepted');
  });

  it('comes after the key and CA checks and before the chain', async () => {
    const another = await vendor.makeEk({ type: 'rsa', withCertificate: false });
    const web = { commonName: 'web-01', tpmSubjectAltName: false, ekUsage: false };
    expect(await outcome(rsa, issuedFor(another, web))).toBe('EK_CERT_KEY_MISMATCH');
    expect(await outcome(rsa, issuedFor(rsa, { ...web, ca: true }))).toBe(
      'EK_NOT_AN_ENDORSEMENT_KEY',
    );
    const stranger = await createTpmVendor({ name: 'TEST Web Host' });
    const strangers = stranger.issueEkCertificate(ekOf(rsa).spkiDer, web);
    expect(await outcome(rsa, strangers)).toBe('EK_CERT_NOT_AN_EK_CERTIFICATE');
  });
});
