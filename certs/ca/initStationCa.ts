import { createPrivateKey, randomBytes, type webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { Crypto } from '@peculiar/webcrypto';

import { sealSecret, type KeyWrapper } from '../custody/secretBox.js';
import { CA_KEY_CONTEXT, assertNoCa, writeNewCa } from './caStore.js';
import type { CaRecord } from './caRecord.js';
import { certificateToPem } from './pemCertificates.js';
import { validateIssuingCa } from './validateIssuingCa.js';

/** Options of initStationCa. */
export interface InitStationCaOptions {
  /** Shown in the certificates: `<name> Root CA`, `<name> Issuing CA`. 1..50 characters. */
  name: string;
  /** Seals the issuing key, the one unlocked for every session. */
  wrapper: KeyWrapper;
  /**
   * Seals the root key; defaults to `wrapper`. A second passphrase, held by someone else, keeps
   * the root out of reach of whoever unlocks the line day to day.
   */
  rootWrapper?: KeyWrapper;
  rootValidityYears?: number;
  issuingValidityYears?: number;
  keyAlgorithm?: 'P-256' | 'P-384';
  now?: Date;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Certificates start a little in the past so a device whose clock lags the station's still
// accepts them.
const BACKDATE_MS = 5 * 60_000;
const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

function addYears(date: Date, years: number): Date {
  const out = new Date(date);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** The same bytes as a Buffer, without a copy that would escape the zeroing below. */
function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** 128 random bits, positive, without a leading zero byte (RFC 5280 4.1.2.2). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/**
 * Makes a key pair whose private half is extractable only for as long as it takes to export it
 * once: the exported PKCS#8 is what gets sealed; signing uses a non-extractable re-import.
 */
async function makeKeyPair(
  crypto: Crypto,
  curve: 'P-256' | 'P-384',
): Promise<{ keys: CryptoKeyPair; pkcs8: Uint8Array }> {
  const algorithm = { name: 'ECDSA', namedCurve: curve };
  const generated = (await crypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', generated.privateKey));
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  return { keys: { publicKey: generated.publicKey, privateKey }, pkcs8 };
}

/**
 * Creates the station's own two-level CA in `caDir`: a self-signed root (CA, pathLen 1) whose key
 * is sealed and then left alone, and an issuing CA under it (CA, pathLen 0) whose key signs the
 * device certificates. Both keys are sealed with the given wrappers before anything is written;
 * no key reaches the disk in clear. Refuses with CA_ALREADY_INITIALISED if a CA exists.
 * Returns the record written to `ca.json`.
 */
/** Longest CA name, spaces around it aside: the CN stays readable in every certificate's issuer. */
export const CA_NAME_MAX_LENGTH = 50;

export async function initStationCa(
  caDir: string,
  options: InitStationCaOptions,
): Promise<CaRecord> {
  const name = options.name.trim();
  if (name.length === 0 || name.length > CA_NAME_MAX_LENGTH)
    throw new RangeError(`CA name must be 1..${CA_NAME_MAX_LENGTH} characters`);
  const rootYears = options.rootValidityYears ?? 20;
  const issuingYears = options.issuingValidityYears ?? 5;
  if (!(rootYears >= 1 && issuingYears >= 1 && issuingYears <= rootYears)) {
    throw new RangeError('validity must be at least a year, the issuing CA within the root');
  }
  const curve = options.keyAlgorithm ?? 'P-256';
  const signingAlgorithm = { name: 'ECDSA', hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  const now = options.now ?? new Date();
  // Before the key generation and sealing work, not only at the end.
  await assertNoCa(caDir);

  const crypto = new Crypto();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const root = await makeKeyPair(crypto, curve);
  const issuing = await makeKeyPair(crypto, curve);
  try {
    const rootCert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: serialNumber(),
        // JSON names, so a comma or equals sign in `name` cannot add attributes.
        name: [{ CN: [`${name} Root CA`] }],
        keys: root.keys,
        notBefore,
        notAfter: addYears(notBefore, rootYears),
        signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, 1, true),
          new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
          await x509.SubjectKeyIdentifierExtension.create(root.keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const issuingCert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject: [{ CN: [`${name} Issuing CA`] }],
        issuer: rootCert.subjectName,
        publicKey: issuing.keys.publicKey,
        signingKey: root.keys.privateKey,
        notBefore,
        notAfter: addYears(notBefore, issuingYears),
        signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
          await x509.SubjectKeyIdentifierExtension.create(issuing.keys.publicKey, false, crypto),
          await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );

    const issuingDer = new Uint8Array(issuingCert.rawData);
    const rootDer = new Uint8Array(rootCert.rawData);
    // The same checks an import must pass: catches a generator regression before it is on disk.
    validateIssuingCa({
      certificateDer: issuingDer,
      chainDer: [rootDer],
      privateKey: createPrivateKey({
        key: bufferView(issuing.pkcs8),
        format: 'der',
        type: 'pkcs8',
      }),
      now,
    });

    const record: CaRecord = {
      format: 'line-station/ca',
      version: 1,
      mode: 'station-root',
      issuingCertificatePem: certificateToPem(issuingDer),
      chainPems: [certificateToPem(rootDer)],
      createdAt: now.toISOString(),
      keyAlgorithm: curve,
    };
    await writeNewCa(caDir, {
      record,
      issuingKey: await sealSecret(issuing.pkcs8, options.wrapper, CA_KEY_CONTEXT.issuingKey),
      rootKey: await sealSecret(
        root.pkcs8,
        options.rootWrapper ?? options.wrapper,
        CA_KEY_CONTEXT.rootKey,
      ),
    });
    return record;
  } finally {
    root.pkcs8.fill(0);
    issuing.pkcs8.fill(0);
  }
}
