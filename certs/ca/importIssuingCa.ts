import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';

import { CertError } from '../certErrors.js';
import { sealSecret, type KeyWrapper } from '../custody/secretBox.js';
import { CA_KEY_CONTEXT, assertNoCa, writeNewCa } from './caStore.js';
import type { CaRecord } from './caRecord.js';
import { certificateToPem, certificatesFromPem } from './pemCertificates.js';
import { readPkcs12 } from './pkcs12Bundle.js';
import { validateIssuingCa } from './validateIssuingCa.js';

/**
 * An issuing CA from the customer's PKI: either PEM (certificate, key, chain) or one PKCS#12
 * file (optionally with a PEM chain beside it, for files exported without one).
 */
export interface ImportIssuingCaOptions {
  /** The issuing CA certificate first; any further certificates count as chain. */
  certificatePem?: string;
  /** PKCS#8, SEC1 (`EC PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or encrypted PKCS#8. */
  privateKeyPem?: string;
  privateKeyPassphrase?: string;
  /** Certificates above the issuing CA up to the root, in any order. */
  chainPem?: string;
  pkcs12?: Uint8Array;
  pkcs12Password?: string;
  /** Seals the imported key. */
  wrapper: KeyWrapper;
  now?: Date;
}

interface ImportedMaterial {
  certificateDer: Uint8Array;
  chainDer: Uint8Array[];
  privateKey: KeyObject;
}

function unreadable(detail: string, cause?: unknown): CertError {
  return new CertError('CA_IMPORT_UNREADABLE', detail, { cause });
}

function pemCertificates(pem: string, what: string): Uint8Array[] {
  try {
    return certificatesFromPem(pem);
  } catch (err) {
    throw unreadable(`${what}: ${(err as Error).message}`, err);
  }
}

function fromPem(options: Omit<ImportIssuingCaOptions, 'wrapper'>): ImportedMaterial {
  if (options.certificatePem === undefined || options.privateKeyPem === undefined) {
    throw unreadable('give the CA certificate and its private key, or a PKCS#12 file');
  }
  const [certificateDer, ...moreCerts] = pemCertificates(options.certificatePem, 'certificate');
  if (certificateDer === undefined) throw unreadable('no CERTIFICATE block in the certificate PEM');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: options.privateKeyPem,
      format: 'pem',
      passphrase: options.privateKeyPassphrase,
    });
  } catch (err) {
    // Node's message says which (no passphrase, bad decrypt, unsupported); it never quotes the key.
    throw unreadable(`private key: ${(err as Error).message}`, err);
  }
  return { certificateDer, chainDer: moreCerts, privateKey };
}

function fromPkcs12(file: Uint8Array, password: string): ImportedMaterial {
  let contents: ReturnType<typeof readPkcs12>;
  try {
    contents = readPkcs12(file, password);
  } catch (err) {
    throw unreadable(`PKCS#12: ${(err as Error).message}`, err);
  }
  const [privateKey, ...extraKeys] = contents.privateKeys;
  if (privateKey === undefined || extraKeys.length > 0) {
    throw unreadable(`PKCS#12 holds ${contents.privateKeys.length} private keys, expected 1`);
  }
  if (contents.certificatesDer.length === 0) throw unreadable('PKCS#12 holds no certificate');
  // The issuing CA is the certificate of the key; friendlyName and localKeyId are not trusted.
  // Picked by its public key only: validateIssuingCa then refuses a key it cannot use
  // (CA_KEY_UNSUPPORTED: an Ed25519 key cannot sign the challenge) before it proves the pair
  // with a signature (provesKeyPair, CA_KEY_MISMATCH).
  const index = contents.certificatesDer.findIndex((der) => {
    try {
      return new X509Certificate(Buffer.from(der)).checkPrivateKey(privateKey);
    } catch {
      return false;
    }
  });
  if (index < 0)
    throw new CertError('CA_KEY_MISMATCH', 'no certificate in the PKCS#12 matches its key');
  return {
    certificateDer: contents.certificatesDer[index]!,
    chainDer: contents.certificatesDer.filter((_, i) => i !== index),
    privateKey,
  };
}

/** An issuing CA read and validated, not yet sealed or written: what `ca import` checks first. */
export interface PreparedIssuingCa {
  certificateDer: Uint8Array;
  chainDer: Uint8Array[];
  keyAlgorithm: CaRecord['keyAlgorithm'];
  privateKey: KeyObject;
  now: Date;
  /** When the CA may issue (the whole path's dates): a leaf never outlives `notAfter`. */
  issuesWithin: { notBefore: Date; notAfter: Date };
}

/**
 * Reads the material and checks it (validateIssuingCa: CA, keyCertSign, validity, key type and
 * match, chain to a self-signed root, path lengths) without writing anything or needing the
 * station's new passphrase, so a command can refuse wrong files before asking for it.
 * Throws CertError: CA_IMPORT_UNREADABLE or a validation code.
 */
export function prepareIssuingCa(
  options: Omit<ImportIssuingCaOptions, 'wrapper'>,
): PreparedIssuingCa {
  const now = options.now ?? new Date();
  if (
    options.pkcs12 !== undefined &&
    (options.certificatePem ?? options.privateKeyPem) !== undefined
  ) {
    throw unreadable('give either a PKCS#12 file or PEM files, not both');
  }
  const material =
    options.pkcs12 !== undefined
      ? fromPkcs12(options.pkcs12, options.pkcs12Password ?? '')
      : fromPem(options);
  const chainDer = [
    ...material.chainDer,
    ...(options.chainPem === undefined ? [] : pemCertificates(options.chainPem, 'chain')),
  ];
  const validated = validateIssuingCa({
    certificateDer: material.certificateDer,
    chainDer,
    privateKey: material.privateKey,
    now,
  });
  return {
    certificateDer: validated.certificateDer,
    chainDer: validated.chainDer,
    keyAlgorithm: validated.keyAlgorithm,
    privateKey: material.privateKey,
    now,
    issuesWithin: validated.issuesWithin,
  };
}

/**
 * Seals a prepared CA's key with `wrapper` and writes it into the empty `caDir`.
 * Throws CertError CA_ALREADY_INITIALISED. Returns the record written to `ca.json`.
 */
export async function writeImportedCa(
  caDir: string,
  prepared: PreparedIssuingCa,
  wrapper: KeyWrapper,
): Promise<CaRecord> {
  await assertNoCa(caDir);
  const pkcs8 = prepared.privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    const record: CaRecord = {
      format: 'line-station/ca',
      version: 1,
      mode: 'imported',
      issuingCertificatePem: certificateToPem(prepared.certificateDer),
      chainPems: prepared.chainDer.map(certificateToPem),
      createdAt: prepared.now.toISOString(),
      keyAlgorithm: prepared.keyAlgorithm,
    };
    await writeNewCa(caDir, {
      record,
      issuingKey: await sealSecret(pkcs8, wrapper, CA_KEY_CONTEXT.issuingKey),
    });
    return record;
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Imports an issuing CA into an empty `caDir`. Everything is read and checked first
 * (prepareIssuingCa); nothing is written unless all of it passes. The key is sealed with
 * `wrapper`. Throws CertError: CA_ALREADY_INITIALISED, CA_IMPORT_UNREADABLE, or a validation
 * code. Returns the record written to `ca.json`.
 */
export async function importIssuingCa(
  caDir: string,
  options: ImportIssuingCaOptions,
): Promise<CaRecord> {
  await assertNoCa(caDir);
  return writeImportedCa(caDir, prepareIssuingCa(options), options.wrapper);
}
