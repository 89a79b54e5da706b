import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextConstructed, contextPrimitive } from '../der/derTags.js';
import {
  ia5Bytes,
  oid,
  printableString,
  sequence,
  set,
  tlv,
  utf8String,
} from '../der/derWriter.js';
import {
  basicConstraints,
  buildTestCertificate,
  extension,
  KEY_USAGE,
  keyUsage,
  testName,
} from '../testing/testCertificates.js';
import { OID } from '../x509/oids.js';
import { notAnEkCertificate, tpmOfEkCertificate } from './ekCertificateProfile.js';
import { readVendorCertificate, type VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const issuer = testName([[OID.commonName, 'TEST Profile CA']]);

/** An end-entity certificate with `extensions` (and CA:FALSE), read back. */
function withExtensions(...extensions: Uint8Array[]): VendorCertificate {
  const der = buildTestCertificate({
    serial: 1,
    issuer,
    subject: testName([]),
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('9999-12-31T23:59:59Z'),
    spki: key.publicKey.export({ format: 'der', type: 'spki' }),
    extensions: [basicConstraints(false), ...extensions],
    signer: key.privateKey,
    signature: 'ecdsa-sha256',
  });
  return readVendorCertificate(der) as VendorCertificate;
}

const subjectAltName = (...names: Uint8Array[]): Buffer =>
  extension(OID.subjectAltName, sequence(...names), true);
const directoryName = (...rdns: Uint8Array[]): Buffer =>
  tlv(contextConstructed(4), sequence(...rdns));
const attribute = (type: string, value: Uint8Array): Buffer => sequence(oid(type), value);
const extendedKeyUsage = (...oids: string[]): Buffer =>
  extension(OID.extKeyUsage, sequence(...oids.map((id) => oid(id))));

describe('the TPM named in an EK certificate subjectAltName', () => {
  it('reads one RDN per attribute in PrintableString, past a GeneralName of another kind', () => {
    // As Nuvoton writes it, after a dNSName some CA added.
    const cert = withExtensions(
      subjectAltName(
        tlv(contextPrimitive(2), ia5Bytes('tpm.example')),
        directoryName(
          set(attribute(VENDOR_OID.tpmManufacturer, printableString('id:4E544300'))),
          set(attribute(VENDOR_OID.tpmModel, printableString('NPCT75x'))),
          set(attribute(VENDOR_OID.tpmVersion, printableString('id:00070002'))),
        ),
      ),
      keyUsage(KEY_USAGE.keyAgreement),
    );
    expect(tpmOfEkCertificate(cert)).toEqual({
      manufacturer: 'id:4E544300',
      model: 'NPCT75x',
      version: 'id:00070002',
    });
    expect(notAnEkCertificate(cert, 'ecc')).toBeUndefined();
  });

  it('reads the manufacturer alone, and prefers the directoryName that names one', () => {
    const cert = withExtensions(
      subjectAltName(
        directoryName(set(attribute(VENDOR_OID.tpmModel, utf8String('first')))),
        directoryName(set(attribute(VENDOR_OID.tpmManufacturer, utf8String('id:49465800')))),
      ),
    );
    expect(tpmOfEkCertificate(cert)).toEqual({ manufacturer: 'id:49465800' });
    expect(notAnEkCertificate(cert, 'rsa')).toBeUndefined();
  });

  it('does not take a model without a manufacturer for the marker', () => {
    const cert = withExtensions(
      subjectAltName(directoryName(set(attribute(VENDOR_OID.tpmModel, utf8String('SLB9670'))))),
    );
    expect(tpmOfEkCertificate(cert)).toEqual({ model: 'SLB9670' });
    expect(notAnEkCertificate(cert, 'rsa')).toMatch(
      /: no extended key usage; a subjectAltName without a TPM manufacturer$/,
    );
  });

  it('counts an unreadable subjectAltName as no marker, leaving the EKU to decide', () => {
    const broken = extension(OID.subjectAltName, Uint8Array.of(0x30, 0x81, 0x02, 0xa4, 0x00), true);
    const alone = withExtensions(broken);
    expect(tpmOfEkCertificate(alone)).toBeUndefined();
    expect(notAnEkCertificate(alone, 'ecc')).toMatch(
      /a subjectAltName that cannot be read \(length not minimally encoded/,
    );
    const withEku = withExtensions(broken, extendedKeyUsage(VENDOR_OID.ekCertificate));
    expect(notAnEkCertificate(withEku, 'ecc')).toBeUndefined();
  });
});

describe('the extended key usage marker', () => {
  it('wants tcg-kp-EKCertificate among the usages, not any usage', () => {
    const tls = withExtensions(extendedKeyUsage('1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'));
    expect(notAnEkCertificate(tls, 'rsa')).toMatch(
      /: extended key usage 1\.3\.6\.1\.5\.5\.7\.3\.1, 1\.3\.6\.1\.5\.5\.7\.3\.2; no subjectAltName$/,
    );
    const both = withExtensions(extendedKeyUsage('1.3.6.1.5.5.7.3.2', VENDOR_OID.ekCertificate));
    expect(notAnEkCertificate(both, 'rsa')).toBeUndefined();
  });

  it('refuses a TPM-named certificate whose extended key usage leaves out EK use', () => {
    const tpm = subjectAltName(
      directoryName(set(attribute(VENDOR_OID.tpmManufacturer, utf8String('id:49465800')))),
    );
    // A vendor CA limited this key to TLS: naming a TPM does not make it an EK certificate.
    const tlsOnly = withExtensions(tpm, extendedKeyUsage('1.3.6.1.5.5.7.3.1'));
    expect(notAnEkCertificate(tlsOnly, 'rsa')).toBe(
      `its extended key usage (1.3.6.1.5.5.7.3.1) leaves out the TCG EK certificate usage (${VENDOR_OID.ekCertificate}): the issuer limited this key to other uses`,
    );
    // No extended key usage, or one that allows any: the subjectAltName marker suffices.
    expect(notAnEkCertificate(withExtensions(tpm), 'rsa')).toBeUndefined();
    const any = withExtensions(tpm, extendedKeyUsage(OID.anyExtendedKeyUsage));
    expect(notAnEkCertificate(any, 'rsa')).toBeUndefined();
  });
});

describe('keyUsage as the EK checks read it', () => {
  it('reads every named bit, decipherOnly in the second octet included', () => {
    const cert = withExtensions(keyUsage(KEY_USAGE.keyAgreement, 8));
    expect(cert.keyUsage).toEqual(['keyAgreement', 'decipherOnly']);
    expect(cert.keyCertSign).toBe(false);
    expect(withExtensions().keyUsage).toBeUndefined();
  });
});
