import { createPrivateKey, type KeyObject, type webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { CertError } from './certErrors.js';
import { leafSpkiOfDer } from './leaf/leafSpki.js';

import type { Crypto } from '@peculiar/webcrypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * The reference issuer: a CA pair (root + issuing CA, pathLen 0) held in memory and leaf issuance
 * from a device CSR, built on @peculiar/x509. It backs the DEMO line and the wire benchmark, and
 * it is the yardstick that any faster issuance path must match byte for byte. It has no key
 * custody: keys live only in this process, which is why it is for DEMO and tests.
 */

const ECDSA_P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SHA256_ECDSA: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

export interface InMemoryCa {
  root: x509.X509Certificate;
  issuing: x509.X509Certificate;
  issuingKeys: CryptoKeyPair;
  crypto: Crypto;
}

/** Makes a root and an issuing CA (pathLen 0) under `name`, valid from now for `days`. */
export async function createInMemoryCa(
  crypto: Crypto,
  name: string,
  days = 3650,
): Promise<InMemoryCa> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  const rootKeys = (await crypto.subtle.generateKey(ECDSA_P256, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${name} Root CA`,
      keys: rootKeys,
      notBefore,
      notAfter,
      signingAlgorithm: SHA256_ECDSA,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  // Extractable so tests and benchmarks can hand the issuing key to the fast path as a KeyObject
  // (issuingPrivateKey); the reference issuer is for DEMO and tests, never production custody.
  const issuingKeys = (await crypto.subtle.generateKey(ECDSA_P256, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const issuing = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${name} Issuing CA`,
      issuer: root.subject,
      publicKey: issuingKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SHA256_ECDSA,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { root, issuing, issuingKeys, crypto };
}

/** The issuing CA's private key as a node:crypto KeyObject (for SoftwareCaSigner in tests). */
export async function issuingPrivateKey(ca: InMemoryCa): Promise<KeyObject> {
  const pkcs8 = await ca.crypto.subtle.exportKey('pkcs8', ca.issuingKeys.privateKey);
  return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
}

/**
 * Checks a device CSR (proof of possession, CN = registration ID) and issues the leaf:
 * KeyUsage digitalSignature, EKU clientAuth, CA:false, SKI/AKI, random 64-bit+ serial.
 */
export async function issueLeafFromCsr(
  ca: InMemoryCa,
  csrDer: Uint8Array,
  registrationId: string,
  validityDays = 365,
): Promise<x509.X509Certificate> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Uint8Array.from(csrDer));
  } catch (err) {
    throw new CertError('CSR_MALFORMED', String(err), { cause: err });
  }
  if (!(await csr.verify(ca.crypto))) {
    throw new CertError('CSR_SIGNATURE_INVALID');
  }
  const cn = csr.subjectName.getField('CN')[0];
  if (cn !== registrationId) {
    throw new CertError('CSR_SUBJECT_MISMATCH', `CN=${cn ?? '(none)'} expected ${registrationId}`);
  }
  const serial = new Uint8Array(9);
  ca.crypto.getRandomValues(serial);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and never a leading zero byte
  // A compressed EC point is written uncompressed, as the station writes it (leafSpki).
  const publicKey = await new x509.PublicKey(
    leafSpkiOfDer(new Uint8Array(csr.publicKey.rawData)),
  ).export(ca.crypto);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(
    Math.min(notBefore.getTime() + validityDays * DAY_MS, ca.issuing.notAfter.getTime()),
  );
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: Buffer.from(serial).toString('hex'),
      subject: `CN=${registrationId}`,
      issuer: ca.issuing.subject,
      publicKey,
      signingKey: ca.issuingKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SHA256_ECDSA,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, ca.crypto),
        await x509.AuthorityKeyIdentifierExtension.create(
          ca.issuingKeys.publicKey,
          false,
          ca.crypto,
        ),
      ],
    },
    ca.crypto,
  );
}
