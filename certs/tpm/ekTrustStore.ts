import { createHash, type KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certificatesFromPem } from '../ca/pemCertificates.js';
import { CertError } from '../certErrors.js';
import { isProblem } from '../der/derReader.js';
import type { NameReading } from './certificateNames.js';
import { publicKeyOf, signatureVerifies } from './certificateSignature.js';
import { pathToRoot } from './ekChain.js';
import { readVendorCertificate, type VendorCertificate } from './vendorCertificate.js';

/**
 * The shipped vendor CA folder in the source tree (<repo>/certs/trust/tpm-vendors), for tests
 * and source runs. Built code lies elsewhere relative to it: a build finds the folder with
 * `shippedEkTrustFolder(appDir)`.
 */
export const SHIPPED_EK_TRUST_FOLDER: string = fileURLToPath(
  new URL('../trust/tpm-vendors', import.meta.url),
);

/** The shipped vendor CA folder inside an application folder (a build or a package). */
export function shippedEkTrustFolder(appDir: string): string {
  return join(appDir, 'certs/trust/tpm-vendors');
}

/** One CA certificate of a trust store. */
export interface TrustedCa {
  cert: VendorCertificate;
  /** The file it came from, for messages and the log. */
  source: string;
  /** Self-signed (its own key verifies its signature): a trust anchor. */
  root: boolean;
  publicKey: KeyObject;
}

// Certificate files are a few KiB; a larger file in a trust folder is a mistake, not a CA.
const MAX_FILE_BYTES = 1024 * 1024;
const CERTIFICATE_FILE = /\.(pem|crt|cer)$/i;

/**
 * The TPM vendor CA certificates EK certificates are checked against. Self-signed ones are the
 * roots (trust anchors); the others are intermediates, used only on a path that ends at a root
 * of the store. Every certificate must be a CA (basicConstraints CA:TRUE); one that is not, or
 * cannot be read, refuses the whole store (EK_TRUST_STORE_UNREADABLE naming the file), so a
 * supervisor's mistake shows when the line starts, not as untrusted devices later. Expired CAs
 * are kept: whether one may still vouch for a chip is ekChain.ts's policy. The same
 * certificate in two files counts once.
 *
 * An intermediate whose issuer is not in the store (its root was not shipped, or not yet added)
 * loads, but can never vouch for a TPM: `anchored` and `unanchored` tell such certificates
 * apart, so the station can show a supervisor which files wait for a root.
 */
export class EkTrustStore {
  /** How many distinct certificates the store holds. */
  readonly size: number;
  /**
   * How many of them can anchor an EK certificate: the roots, and the intermediates with a path
   * to a root of this store, each link proven by its signature and allowed by ekChain.ts's
   * rules (keyUsage, pathLenConstraint, the issuer not expired when it signed).
   */
  readonly anchored: number;
  /**
   * The files (`source`) holding the other certificates, those with no such path, in load
   * order, each file once. They wait for a CA the store lacks, usually a root.
   */
  readonly unanchored: readonly string[];
  private readonly bySubject = new Map<string, TrustedCa[]>();

  private constructor(readonly certificates: readonly TrustedCa[]) {
    this.size = certificates.length;
    for (const ca of certificates) {
      const list = this.bySubject.get(ca.cert.subject.key) ?? [];
      list.push(ca);
      this.bySubject.set(ca.cert.subject.key, list);
    }
    const waiting = certificates.filter((ca) => !Array.isArray(pathToRoot(ca, this)));
    this.anchored = certificates.length - waiting.length;
    this.unanchored = [...new Set(waiting.map((ca) => ca.source))];
  }

  /** PEM texts, each holding one or more CERTIFICATE blocks; `name` is used in messages. */
  static fromPems(files: { name: string; pem: string }[]): EkTrustStore {
    return EkTrustStore.fromSources(
      files.map(({ name, pem }) => ({ name, ders: pemCertificates(name, pem) })),
    );
  }

  /**
   * Every *.pem, *.crt and *.cer file (PEM or DER) of each folder, in name order. A folder that
   * does not exist is skipped (the supervisor's folder is made only when needed); one that
   * exists but cannot be listed is refused like an unreadable certificate.
   */
  static async fromFolders(folders: string[]): Promise<EkTrustStore> {
    const sources: { name: string; ders: Uint8Array[] }[] = [];
    for (const folder of folders) {
      let names: string[];
      try {
        names = (await readdir(folder)).filter((n) => CERTIFICATE_FILE.test(n)).sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw unreadable(`${folder}: cannot list the folder (${(err as Error).message})`, err);
      }
      for (const name of names) {
        const path = join(folder, name);
        let bytes: Buffer;
        try {
          const info = await stat(path);
          if (!info.isFile()) continue;
          if (info.size > MAX_FILE_BYTES) throw new Error(`${info.size} bytes, at most 1 MiB`);
          bytes = await readFile(path);
        } catch (err) {
          throw unreadable(`${path}: ${(err as Error).message}`, err);
        }
        const text = bytes.toString('latin1');
        const ders = text.includes('-----BEGIN')
          ? pemCertificates(path, text)
          : [new Uint8Array(bytes)];
        sources.push({ name: path, ders });
      }
    }
    return EkTrustStore.fromSources(sources);
  }

  /** The CAs named `issuer`: the candidates to have signed a certificate with that issuer. */
  named(issuer: NameReading): readonly TrustedCa[] {
    return this.bySubject.get(issuer.key) ?? [];
  }

  private static fromSources(sources: { name: string; ders: Uint8Array[] }[]): EkTrustStore {
    const seen = new Set<string>();
    const certificates: TrustedCa[] = [];
    for (const { name, ders } of sources) {
      for (const der of ders) {
        const digest = createHash('sha256').update(der).digest('hex');
        if (seen.has(digest)) continue;
        seen.add(digest);
        certificates.push(loadCa(name, der));
      }
    }
    return new EkTrustStore(certificates);
  }
}

function loadCa(source: string, der: Uint8Array): TrustedCa {
  const cert = readVendorCertificate(der);
  if (isProblem(cert)) {
    throw unreadable(`${source}: not a readable X.509 certificate (${cert.toString()})`);
  }
  const what = `${source} ("${cert.subject.label}")`;
  if (cert.basicConstraints?.ca !== true) throw unreadable(`${what} is not a CA certificate`);
  const publicKey = publicKeyOf(cert);
  if (typeof publicKey === 'string') throw unreadable(`${what}: ${publicKey}`);
  let root = false;
  if (cert.subject.key === cert.issuer.key) {
    const selfSigned = signatureVerifies(cert, publicKey);
    if (typeof selfSigned === 'string') throw unreadable(`${what}: ${selfSigned}`);
    // Same name, another key: a self-issued intermediate (a CA key rollover), not a root.
    root = selfSigned;
  }
  return { cert, source, root, publicKey };
}

function pemCertificates(name: string, pem: string): Uint8Array[] {
  let ders: Uint8Array[];
  try {
    ders = certificatesFromPem(pem);
  } catch (err) {
    throw unreadable(`${name}: ${(err as Error).message}`, err);
  }
  if (ders.length === 0) throw unreadable(`${name}: holds no CERTIFICATE block`);
  return ders;
}

function unreadable(detail: string, cause?: unknown): CertError {
  return new CertError('EK_TRUST_STORE_UNREADABLE', detail, cause === undefined ? {} : { cause });
}
