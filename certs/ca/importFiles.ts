import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

import { CertError, certErrorText, type CertErrorCode } from '../certErrors.js';
import { readBoundedInputFile } from './boundedInputFile.js';
import { certificatesFromPem } from './pemCertificates.js';

/**
 * The files of `ca import`, read and checked before any password or passphrase is asked for: a
 * supervisor who gave a certificate as the key, or a PEM file as the PKCS#12, learns it at once,
 * in words naming the file and what it seems to hold, instead of after typing three secrets and
 * then reading a library's message ("DECODER routines::unsupported").
 */

/** A file of the import that is not what its flag asks for; the message names the file. */
export class CaImportFileError extends CertError {
  constructor(
    code: CertErrorCode,
    readonly file: string,
    finding: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${file}: ${finding}`, options);
    this.message = `${file}: ${finding}. ${certErrorText[code]}`;
  }
}

/** The files as given on the command line (any may be absent). */
export interface ImportFilePaths {
  pkcs12?: string;
  certificate?: string;
  key?: string;
  chain?: string;
}

/** What the files hold, ready for importIssuingCa once the passwords are known. */
export interface CheckedImportFiles {
  pkcs12?: Uint8Array;
  certificatePem?: string;
  privateKeyPem?: string;
  chainPem?: string;
  /** The key file is encrypted: its passphrase is needed to read it. */
  keyEncrypted: boolean;
}

/** No certificate, key or PKCS#12 comes near this; a larger file is the wrong one. */
const MAX_FILE_BYTES = 1024 * 1024;

const PRIVATE_KEY_LABELS = new Set([
  'PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'EC PRIVATE KEY',
  'RSA PRIVATE KEY',
]);

/** Reads each file given and checks it holds what its flag asks for. Throws CaImportFileError. */
export async function readImportFiles(paths: ImportFilePaths): Promise<CheckedImportFiles> {
  const checked: CheckedImportFiles = { keyEncrypted: false };
  if (paths.pkcs12 !== undefined) {
    const { file, bytes } = await readImportFile(paths.pkcs12);
    if (!looksLikePkcs12(bytes)) {
      throw new CaImportFileError(
        'CA_IMPORT_NOT_PKCS12',
        file,
        `${describeContents(bytes)}, not a PKCS#12 file`,
      );
    }
    checked.pkcs12 = bytes;
  }
  if (paths.certificate !== undefined) {
    const { file, bytes } = await readImportFile(paths.certificate);
    checked.certificatePem = pemCertificatesOf(file, bytes, 'CA_IMPORT_NO_CERTIFICATE');
  }
  if (paths.key !== undefined) {
    const { file, bytes } = await readImportFile(paths.key);
    const text = Buffer.from(bytes).toString('latin1');
    const labels = pemLabels(text);
    if (!labels.some((label) => PRIVATE_KEY_LABELS.has(label))) {
      throw new CaImportFileError(
        'CA_IMPORT_NO_PRIVATE_KEY',
        file,
        `${describeContents(bytes)}, no private key`,
      );
    }
    checked.keyEncrypted = isEncryptedKey(text);
    // A key in clear needs no secret to be read: a damaged one is refused now, not after the
    // new CA passphrase was typed twice. Node's message never quotes the key.
    if (!checked.keyEncrypted) {
      try {
        createPrivateKey({ key: text, format: 'pem' });
      } catch (err) {
        throw new CaImportFileError(
          'CA_IMPORT_UNREADABLE',
          file,
          `a PEM private key that cannot be read (${(err as Error).message})`,
          { cause: err },
        );
      }
    }
    checked.privateKeyPem = text;
  }
  if (paths.chain !== undefined) {
    const { file, bytes } = await readImportFile(paths.chain);
    checked.chainPem = pemCertificatesOf(file, bytes, 'CA_IMPORT_CHAIN_EMPTY');
  }
  return checked;
}

async function readImportFile(path: string): Promise<{ file: string; bytes: Uint8Array }> {
  const read = await readBoundedInputFile(
    path,
    MAX_FILE_BYTES,
    'a certificate, key or PKCS#12 file',
  );
  if ('bytes' in read) return read;
  const options = read.cause === undefined ? {} : { cause: read.cause };
  throw new CaImportFileError('CA_IMPORT_FILE_UNREADABLE', read.file, read.finding, options);
}

/**
 * The PEM text of a file that must hold certificates, each of which must parse and have a public
 * key that can be read. A file with certificate armour whose content is damaged (a character
 * changed, the file cut short, a key's curve OID altered) is refused as damaged, not as "no PEM
 * certificate" nor with the crypto library's bare message (which names no file).
 */
function pemCertificatesOf(
  file: string,
  bytes: Uint8Array,
  missing: 'CA_IMPORT_NO_CERTIFICATE' | 'CA_IMPORT_CHAIN_EMPTY',
): string {
  const text = Buffer.from(bytes).toString('latin1');
  const damaged = (finding: string, cause: unknown): CaImportFileError =>
    new CaImportFileError('CA_IMPORT_CERTIFICATE_DAMAGED', file, finding, { cause });
  let ders: Uint8Array[];
  try {
    ders = certificatesFromPem(text);
  } catch (err) {
    throw damaged(`PEM certificate armour, but ${(err as Error).message}`, err);
  }
  if (ders.length === 0) {
    throw new CaImportFileError(missing, file, `${describeContents(bytes)}, no PEM certificate`);
  }
  ders.forEach((der, index) => {
    const block = `certificate block ${index + 1}`;
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(der));
    } catch (err) {
      throw damaged(
        `PEM certificate armour, but ${block} is not a readable certificate (${(err as Error).message})`,
        err,
      );
    }
    try {
      // Node reads the key only when asked: a broken one would otherwise surface mid-validation.
      void certificate.publicKey;
    } catch (err) {
      throw damaged(
        `PEM certificate armour, but the public key of ${block} (${subjectOf(certificate)}) cannot be read (${(err as Error).message})`,
        err,
      );
    }
  });
  return text;
}

function pemLabels(text: string): string[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 #]+)-----/g)].map((match) => match[1]!);
}

/** PKCS#8 encrypted, or the traditional OpenSSL form with its Proc-Type header. */
function isEncryptedKey(text: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,\s*ENCRYPTED/.test(text);
}

/**
 * A PFX is a SEQUENCE whose first element is the version, INTEGER 3 (RFC 7292 §4); a
 * certificate or a PKCS#8 key starts otherwise. The outer length may be BER's indefinite form,
 * which Windows exports use, so only its header is stepped over here; the rest is checked once
 * the password is known.
 */
export function looksLikePkcs12(bytes: Uint8Array): boolean {
  if (bytes.length < 8 || bytes[0] !== 0x30) return false;
  const first = bytes[1]!;
  const at = first <= 0x80 ? 2 : 2 + (first & 0x7f);
  return bytes[at] === 0x02 && bytes[at + 1] === 0x01 && bytes[at + 2] === 0x03;
}

/** What a file seems to hold, in a supervisor's words ("a PEM certificate (CN=Issuing CA)"). */
export function describeContents(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const text = Buffer.from(bytes).toString('latin1');
  const labels = pemLabels(text);
  if (labels.length > 0) return describePem(text, labels);
  if (looksLikePkcs12(bytes)) return 'a PKCS#12 file';
  if (bytes[0] === 0x30) return describeDer(Buffer.from(bytes));
  // Printable text with no PEM block: an openssl -text dump, a note, a connection string.
  return /^[\t\n\r\x20-\x7e]*$/.test(text)
    ? 'text with no PEM block'
    : 'binary data that is neither PEM nor DER';
}

function describePem(text: string, labels: string[]): string {
  const parts: string[] = [];
  const certificates = labels.filter((label) => label === 'CERTIFICATE').length;
  if (certificates > 0) {
    const subject = firstSubject(text);
    const about =
      subject === undefined ? '' : ` (${certificates > 1 ? 'the first ' : ''}${subject})`;
    parts.push(
      `${certificates > 1 ? `${certificates} PEM certificates` : 'a PEM certificate'}${about}`,
    );
  }
  if (labels.some((label) => PRIVATE_KEY_LABELS.has(label))) {
    parts.push(isEncryptedKey(text) ? 'an encrypted PEM private key' : 'a PEM private key');
  }
  for (const label of new Set(labels)) {
    if (label === 'CERTIFICATE' || PRIVATE_KEY_LABELS.has(label)) continue;
    parts.push(PEM_NAMES[label] ?? `a PEM "${label}" block`);
  }
  return parts.join(' and ');
}

const PEM_NAMES: Record<string, string> = {
  'PUBLIC KEY': 'a PEM public key',
  'CERTIFICATE REQUEST': 'a PEM certificate request (CSR)',
  'NEW CERTIFICATE REQUEST': 'a PEM certificate request (CSR)',
  'X509 CRL': 'a PEM certificate revocation list',
  PKCS7: 'a PEM PKCS#7 bundle',
};

function firstSubject(text: string): string | undefined {
  try {
    const [der] = certificatesFromPem(text);
    return der === undefined ? undefined : subjectOf(new X509Certificate(Buffer.from(der)));
  } catch {
    return undefined;
  }
}

function subjectOf(certificate: X509Certificate): string {
  return certificate.subject.split('\n').join(', ');
}

function describeDer(der: Buffer): string {
  try {
    return `a DER certificate (${subjectOf(new X509Certificate(der))})`;
  } catch {
    // not a certificate: try a key next
  }
  try {
    createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return 'a DER private key';
  } catch {
    // nor a key in clear
  }
  try {
    createPublicKey({ key: der, format: 'der', type: 'spki' });
    return 'a DER public key';
  } catch {
    return 'DER data that is no certificate, key or PKCS#12 file';
  }
}
