import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCsr } from '../csr/buildCsr.js';
import { parseCsr } from '../csr/parseCsr.js';
import { readCert, testCa, TEST_SANS } from '../fixtures/leafFixtures.js';
import { testPrivateKey } from '../fixtures/testKeys.js';
import { DEFAULT_LEAF_PROFILE } from '../leafProfile.js';
import { SoftwareCaSigner } from '../softwareCaSigner.js';
import { OID } from '../x509/oids.js';
import { issueLeafFast } from './issueLeafFast.js';
import { LeafTemplate } from './leafTemplate.js';

/** Property: whatever ID, key, serial and date, the station's reader reads back what it wrote. */

const keys = [
  ...Array.from({ length: 4 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
  ...Array.from({ length: 3 }, () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
  testPrivateKey('test-device-rsa2048'),
];
const first = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');
const inner = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-._:');
const registrationId = fc.oneof(
  first,
  fc.tuple(first, fc.array(inner, { maxLength: 62 }), first).map(([a, m, z]) => a + m.join('') + z),
);
const serial = fc
  .uint8Array({ minLength: 1, maxLength: 20 })
  .filter((b) => b[0] !== 0)
  .map((b) => ((b[0] = b[0]! & 0x7f || 1), b));
const issuedAt = fc.date({
  min: new Date('2024-01-02T00:00:00Z'),
  max: new Date('2063-12-31T00:00:00Z'),
  noInvalidDate: true,
});

describe('our reader re-reads what our writer wrote (property)', () => {
  it('CSR: CN and SPKI; certificate: serial, CN, SPKI, issuer, validity, SKI, SANs', async () => {
    const ca = await testCa('test-ca-p256');
    const template = LeafTemplate.create({
      issuingCertificate: ca.der,
      profile: { ...DEFAULT_LEAF_PROFILE, subjectAltNames: TEST_SANS },
      algorithm: ca.algorithm,
    });
    const signer = new SoftwareCaSigner(ca.key);
    await fc.assert(
      fc.asyncProperty(
        registrationId,
        fc.nat({ max: keys.length - 1 }),
        serial,
        issuedAt,
        async (id, k, serialNumber, now) => {
          const key = keys[k]!;
          const csr = parseCsr(buildCsr({ privateKey: key, commonName: id }));
          expect(csr.commonName).toEqual({ count: 1, value: id });
          const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
          expect(Buffer.from(csr.spki.raw)).toEqual(spki);

          const leaf = await issueLeafFast(template, signer, {
            registrationId: id,
            spki: csr.spki.raw,
            serialNumber,
            now,
          });
          const cert = readCert(leaf.certificateDer);
          expect(Buffer.from(cert.serialNumber)).toEqual(Buffer.from(serialNumber));
          expect(cert.commonName).toEqual({ count: 1, value: id });
          expect(Buffer.from(cert.spki.raw)).toEqual(spki);
          expect(Buffer.from(cert.issuer)).toEqual(Buffer.from(template.issuer.subject));
          expect(cert.notBefore.getTime()).toBe(Math.floor((now.getTime() - 60_000) / 1000) * 1000);
          expect(cert.notAfter).toEqual(leaf.notAfter);
          expect(cert.notAfter.getTime()).toBeLessThanOrEqual(template.issuer.notAfter.getTime());
          const ext = (oid: string) => cert.extensions.find((e) => e.oid === oid)?.value;
          expect(ext(OID.subjectKeyIdentifier)?.length).toBe(22);
          const san = Buffer.from(ext(OID.subjectAltName)!);
          expect(san.includes(Buffer.from(`${id}.devices.example.com`))).toBe(true);
          expect(san.includes(Buffer.from(`urn:line-station:${id}`))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
