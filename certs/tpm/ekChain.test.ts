import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertError } from '../certErrors.js';
import { certificateToPem } from '../ca/pemCertificates.js';
import {
  basicConstraints,
  buildTestCertificate,
  ekCertificateUsage,
  KEY_USAGE,
  keyUsage,
  testName,
  tpmSubjectAltName,
} from '../testing/testCertificates.js';
import { ekTemplateFields, marshalTpm2bPublic } from '../testing/tpmPublicWriter.js';
import { createTpmVendor, type TestTpm } from '../testing/tpmVendorKit.js';
import { OID } from '../x509/oids.js';
import { checkEkCertificate, type EkCertificateCheck } from './ekCertificate.js';
import { buildEkChain } from './ekChain.js';
import { EkTrustStore, SHIPPED_EK_TRUST_FOLDER } from './ekTrustStore.js';
import { parseEkPublic } from './tpmPublic.js';

const at = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

async function check(
  tpm: TestTpm,
  trust: EkTrustStore,
  now?: Date,
): Promise<EkCertificateCheck | CertError> {
  try {
    return await checkEkCertificate({
      ek: parseEkPublic(tpm.ekPublic),
      certificateDer: tpm.ekCertificate!,
      trust,
      now,
    });
  } catch (err) {
    if (err instanceof CertError) return err;
    throw err;
  }
}

describe('the validity policy: a vendor CA is judged when it issued', () => {
  it('accepts an intermediate that expired after it issued the EK certificate, with a note', async () => {
    const vendor = await createTpmVendor({
      name: 'TEST Old Vendor',
      rootValidity: { notBefore: at('2004-01-01'), notAfter: at('2044-01-01') },
      intermediateValidity: { notBefore: at('2005-10-20'), notAfter: at('2025-10-20') },
    });
    const tpm = await vendor.makeEk({ type: 'ecc', notBefore: at('2015-03-01') });
    const result = await check(tpm, vendor.trust(), at('2026-06-01'));
    expect(result).not.toBeInstanceOf(CertError);
    expect((result as EkCertificateCheck).notes).toEqual([
      'vendor CA "TEST Old Vendor EK Intermediate CA" expired on 2025-10-20; accepted because it ' +
        'was still valid when it issued "EK certificate issued by TEST Old Vendor EK Intermediate CA" on 2015-03-01',
    ]);
  });

  it('notes a root that expired since too, and checks nothing about CAs against the clock', async () => {
    const vendor = await createTpmVendor({
      name: 'TEST Bygone Vendor',
      rootValidity: { notBefore: at('2000-01-01'), notAfter: at('2020-01-01') },
      intermediateValidity: { notBefore: at('2005-01-01'), notAfter: at('2019-01-01') },
    });
    const tpm = await vendor.makeEk({ type: 'ecc', notBefore: at('2010-01-01') });
    const result = (await check(tpm, vendor.trust(), at('2030-01-01'))) as EkCertificateCheck;
    expect(result.vendorRoot).toBe('TEST Bygone Vendor EK Root CA');
    expect(result.notes).toHaveLength(2);
    expect(result.notes[1]).toMatch(/"TEST Bygone Vendor EK Root CA" expired on 2020-01-01/);
  });

  it('refuses a CA that had expired when it issued: EK_CERT_UNTRUSTED', async () => {
    const vendor = await createTpmVendor({
      name: 'TEST Lapsed Vendor',
      intermediateValidity: { notBefore: at('2020-01-01'), notAfter: at('2021-01-01') },
    });
    const tpm = await vendor.makeEk({ type: 'ecc', notBefore: at('2022-06-01') });
    expect(await check(tpm, vendor.trust())).toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringMatching(
        /"TEST Lapsed Vendor EK Intermediate CA" \(.*\) had expired \(2021-01-01\) when it issued .* on 2022-06-01/,
      ) as unknown,
    });
  });

  it('accepts, with a note, a CA certificate dated after the certificate it issued (re-issued for the same key)', async () => {
    const now = Date.now();
    const vendor = await createTpmVendor({ name: 'TEST Reissuing Vendor' });
    const tpm = await vendor.makeEk({ type: 'ecc', notBefore: new Date(now - 30 * 86_400_000) });
    const result = (await check(tpm, vendor.trust())) as EkCertificateCheck;
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatch(
      /^the certificate of vendor CA "TEST Reissuing Vendor EK Intermediate CA" dates from .* re-issued CA certificate for the same key$/,
    );
  });
});

/**
 * A vendor made by hand, for CA constraints the kit's vendors always get right. Its EK
 * certificate carries the TCG markers unless `ekMarkers` is false.
 */
function handMadeVendor(options: {
  rootPathLength: number;
  intermediateUsage: number[];
  ekMarkers?: boolean;
}): {
  trust: EkTrustStore;
  tpm: TestTpm;
} {
  const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const [root, intermediate, ek] = [key(), key(), key()];
  const spki = (k: ReturnType<typeof key>) => k.publicKey.export({ format: 'der', type: 'spki' });
  const rootName = testName([[OID.commonName, 'TEST Hand Root']]);
  const intermediateName = testName([[OID.commonName, 'TEST Hand Intermediate']]);
  const common = {
    notBefore: at('2020-01-01'),
    notAfter: at('2040-01-01'),
    signature: 'ecdsa-sha256' as const,
  };
  const rootDer = buildTestCertificate({
    ...common,
    serial: 1,
    issuer: rootName,
    subject: rootName,
    spki: spki(root),
    extensions: [basicConstraints(true, options.rootPathLength), keyUsage(KEY_USAGE.keyCertSign)],
    signer: root.privateKey,
  });
  const intermediateDer = buildTestCertificate({
    ...common,
    serial: 2,
    issuer: rootName,
    subject: intermediateName,
    spki: spki(intermediate),
    extensions: [basicConstraints(true, 0), keyUsage(...options.intermediateUsage)],
    signer: root.privateKey,
  });
  const ekCertificate = buildTestCertificate({
    ...common,
    notBefore: at('2024-01-01'),
    serial: 3,
    issuer: intermediateName,
    subject: testName([]),
    spki: spki(ek),
    extensions: [
      ...(options.ekMarkers === false
        ? []
        : [
            tpmSubjectAltName({ manufacturer: 'id:48414E44', model: 'HAND', version: 'id:0001' }),
            ekCertificateUsage(),
          ]),
      basicConstraints(false),
      keyUsage(KEY_USAGE.keyAgreement),
    ],
    signer: intermediate.privateKey,
  });
  return {
    trust: EkTrustStore.fromPems([
      { name: 'hand root', pem: certificateToPem(rootDer) },
      { name: 'hand intermediate', pem: certificateToPem(intermediateDer) },
    ]),
    tpm: { ekPublic: marshalTpm2bPublic(ekTemplateFields(ek.publicKey)), ekCertificate },
  };
}

describe('CA constraints on the path', () => {
  it('accepts the hand-made vendor when its constraints allow the path', async () => {
    const { trust, tpm } = handMadeVendor({
      rootPathLength: 1,
      intermediateUsage: [KEY_USAGE.keyCertSign],
    });
    expect(await check(tpm, trust)).toMatchObject({
      vendorRoot: 'TEST Hand Root',
      tpm: { manufacturer: 'id:48414E44', model: 'HAND', version: 'id:0001' },
    });
  });

  it('refuses its certificate without the TCG markers, though the path is sound', async () => {
    const { trust, tpm } = handMadeVendor({
      rootPathLength: 1,
      intermediateUsage: [KEY_USAGE.keyCertSign],
      ekMarkers: false,
    });
    expect(await check(tpm, trust)).toMatchObject({ code: 'EK_CERT_NOT_AN_EK_CERTIFICATE' });
  });

  it('refuses a root whose pathLenConstraint allows no CA below it', async () => {
    const { trust, tpm } = handMadeVendor({
      rootPathLength: 0,
      intermediateUsage: [KEY_USAGE.keyCertSign],
    });
    expect(await check(tpm, trust)).toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringMatching(
        /"TEST Hand Root" .* allows 0 CA\(s\) below it; the path has 1/,
      ) as unknown,
    });
    // The trust store counts that intermediate as one that can never anchor.
    expect(trust.anchored).toBe(1);
    expect(trust.unanchored).toEqual(['hand intermediate']);
  });

  it('refuses an intermediate whose keyUsage lacks keyCertSign', async () => {
    const { trust, tpm } = handMadeVendor({
      rootPathLength: 1,
      intermediateUsage: [KEY_USAGE.digitalSignature],
    });
    expect(await check(tpm, trust)).toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringMatching(
        /"TEST Hand Intermediate" .* may not sign certificates/,
      ) as unknown,
    });
  });
});

describe('paths through the shipped vendor CAs', () => {
  let shipped: EkTrustStore;
  beforeAll(async () => {
    shipped = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
  });

  /** Where each shipped intermediate's path ends: its root, or the CA the store lacks. */
  function pathEnds(): Map<string, string> {
    const ends = new Map<string, string>();
    for (const ca of shipped.certificates.filter((c) => !c.root)) {
      try {
        const chain = buildEkChain(ca.cert, shipped, at('2026-06-01'));
        ends.set(
          ca.cert.subject.label,
          `root: ${chain.cas[chain.cas.length - 1]!.cert.subject.label}`,
        );
      } catch (err) {
        ends.set(
          ca.cert.subject.label,
          `missing: ${/no CA named "([^"]+)"/.exec((err as CertError).detail ?? '')?.[1] ?? String(err)}`,
        );
      }
    }
    return ends;
  }

  it('proves the vendor signatures (RSA SHA-256, ECDSA SHA-256/384) up to the shipped roots', () => {
    const ends = pathEnds();
    expect(ends.get('Infineon OPTIGA(TM) RSA Manufacturing CA 034')).toBe(
      'root: Infineon OPTIGA(TM) RSA Root CA',
    );
    expect(ends.get('Infineon OPTIGA(TM) TPM 2.0 ECC CA 042')).toBe(
      'root: Infineon OPTIGA(TM) ECC Root CA',
    );
    expect(ends.get('STM TPM EK Intermediate CA 05')).toBe(
      'root: GlobalSign Trusted Platform Module Root CA',
    );
    expect(
      [...ends.values()].filter((end) => end.startsWith('root:')).length,
    ).toBeGreaterThanOrEqual(18);
  });

  it('names exactly the four vendor roots the shipped folder lacks', () => {
    const missing = new Set([...pathEnds().values()].filter((end) => end.startsWith('missing:')));
    expect([...missing].sort()).toEqual([
      'missing: Aliyun TPM Root CA',
      'missing: GlobalSign Trusted Platform Module ECC Root CA',
      'missing: Nationz TPM Root CA',
      'missing: VeriSign Trusted Platform Module Root CA',
    ]);
  });

  it('accepts STM Intermediate CA 01, whose root certificate is twelve hours younger, with a note', () => {
    const stm01 = shipped.certificates.find(
      (c) => c.cert.subject.label === 'STM TPM EK Intermediate CA 01',
    )!;
    const chain = buildEkChain(stm01.cert, shipped, at('2026-06-01'));
    expect(chain.notes).toEqual([
      'the certificate of vendor CA "STM TPM EK Root CA" dates from 2009-07-28 12:00 UTC, after it ' +
        'issued "STM TPM EK Intermediate CA 01" on 2009-07-28 00:00 UTC; accepted as a re-issued CA certificate for the same key',
    ]);
  });
});
