import { X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

import type { CaSignatureAlgorithm } from '../caSigner.js';
import { CertError } from '../certErrors.js';
import { readIssuerFacts } from '../leaf/issuerFacts.js';
import { OID } from '../x509/oids.js';
import { provesKeyPair } from './provesKeyPair.js';

/** The CA key types the station signs with. */
export type CaKeyAlgorithm = 'P-256' | 'P-384' | `RSA-${number}`;

/** An issuing CA as found in an import or on disk, before it is trusted to issue. */
export interface IssuingCaCandidate {
  certificateDer: Uint8Array;
  /** Certificates above it, in any order; extra, unrelated certificates are ignored. */
  chainDer: readonly Uint8Array[];
  /** When given, it must be the certificate's key. */
  privateKey?: KeyObject;
  now: Date;
}

/** An issuing CA that may issue device certificates now. */
export interface ValidatedIssuingCa {
  certificateDer: Uint8Array;
  /** The path above the issuing CA, its issuer first, ending with the self-signed root. */
  chainDer: Uint8Array[];
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /**
   * When the path may issue: the latest notBefore and the soonest notAfter of the issuing CA and
   * the CAs above it. No leaf outlives its notAfter (leafValidity).
   */
  issuesWithin: { notBefore: Date; notAfter: Date };
  keyAlgorithm: CaKeyAlgorithm;
  signatureAlgorithm: CaSignatureAlgorithm;
}

interface Cert {
  der: Uint8Array;
  node: NodeCertificate;
  parsed: x509.X509Certificate;
}

// Deeper paths than this are not PKIs a line station meets; it also bounds the search.
const MAX_PATH = 8;
const MAX_RSA_BITS = 16384;

const fail = (code: ConstructorParameters<typeof CertError>[0], detail: string) =>
  new CertError(code, detail);

function parse(der: Uint8Array, what: string): Cert {
  let cert: Cert;
  try {
    cert = {
      der,
      node: new NodeCertificate(Buffer.from(der)),
      parsed: new x509.X509Certificate(Uint8Array.from(der)),
    };
  } catch (err) {
    throw new CertError('CA_IMPORT_UNREADABLE', `${what} is not a readable X.509 certificate`, {
      cause: err,
    });
  }
  try {
    // Node decodes the key only when asked: a damaged one (a curve OID altered) would otherwise
    // escape later as OpenSSL's bare "decode error", with no code and no certificate named. The
    // PEM files of `ca import` are checked sooner, naming the file (importFiles.ts).
    void cert.node.publicKey;
  } catch (err) {
    throw new CertError(
      'CA_IMPORT_UNREADABLE',
      `${what} ("${cert.parsed.subject}") has a public key that cannot be read (${(err as Error).message})`,
      { cause: err },
    );
  }
  return cert;
}

/** The station's name for a key, or undefined if the station does not sign with that type. */
export function caKeyAlgorithmOf(
  key: KeyObject,
): { keyAlgorithm: CaKeyAlgorithm; signatureAlgorithm: CaSignatureAlgorithm } | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') {
    return { keyAlgorithm: 'P-256', signatureAlgorithm: 'ecdsa-with-SHA256' };
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1') {
    return { keyAlgorithm: 'P-384', signatureAlgorithm: 'ecdsa-with-SHA384' };
  }
  const bits = details.modulusLength ?? 0;
  if (key.asymmetricKeyType === 'rsa' && bits >= 2048 && bits <= MAX_RSA_BITS) {
    return { keyAlgorithm: `RSA-${bits}`, signatureAlgorithm: 'sha256WithRSAEncryption' };
  }
  return undefined;
}

function keyName(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  return [key.asymmetricKeyType, d.namedCurve, d.modulusLength].filter(Boolean).join(' ');
}

function signedBy(child: Cert, parent: Cert): boolean {
  try {
    // checkIssued: names, AKI/SKI, and the parent's keyUsage allowing keyCertSign.
    return child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);
  } catch {
    return false;
  }
}

function checkValidity(cert: Cert, now: Date, role: string): void {
  const { notBefore, notAfter, subject } = cert.parsed;
  if (now < notBefore) {
    throw fail('CA_NOT_YET_VALID', `${role} "${subject}" is valid from ${notBefore.toISOString()}`);
  }
  if (now > notAfter) {
    throw fail('CA_EXPIRED', `${role} "${subject}" expired ${notAfter.toISOString()}`);
  }
}

/** Walks from the issuing CA to a self-signed root through `pool`, checking each signature. */
function buildPath(issuing: Cert, pool: Cert[]): Cert[] {
  const path = [issuing];
  let current = issuing;
  while (!signedBy(current, current)) {
    if (path.length >= MAX_PATH) throw fail('CA_CHAIN_BROKEN', `no root within ${MAX_PATH} links`);
    const parent = pool.find((c) => !path.includes(c) && signedBy(current, c));
    if (parent === undefined) {
      throw fail(
        'CA_CHAIN_BROKEN',
        `nothing in the chain signed "${current.parsed.subject}" ` +
          `(issuer "${current.parsed.issuer}"); the chain must reach a self-signed root`,
      );
    }
    path.push(parent);
    current = parent;
  }
  return path;
}

/**
 * Decides whether a certificate (with its key, when given) may act as this station's issuing CA
 * at `now`: a CA, allowed to sign certificates, within its validity, with a supported key that
 * matches, chained by valid signatures to a self-signed root, with no CA above it whose
 * pathLenConstraint forbids issuing end-entity certificates beneath it, and none whose extended
 * key usage leaves out client authentication, and readable by the strict DER reader the leaf
 * template uses (readIssuerFacts). Pure (no I/O, no clock),
 * so import runs it before writing anything and unlock runs it again on what was stored.
 * Throws CertError with the first failed check's code.
 */
export function validateIssuingCa(candidate: IssuingCaCandidate): ValidatedIssuingCa {
  const { now } = candidate;
  const issuing = parse(candidate.certificateDer, 'the CA certificate');
  // Every leaf template reads the CA with the strict DER reader, which refuses slips the two
  // parsers above accept: refused here (CA_CERTIFICATE_NOT_DER), an import or an unlock says
  // so once, instead of each device failing at the line.
  readIssuerFacts(candidate.certificateDer);
  const pool = candidate.chainDer
    .map((der, i) => parse(der, `chain certificate ${i + 1}`))
    .filter((c) => !Buffer.from(c.der).equals(Buffer.from(issuing.der)));
  const subject = issuing.parsed.subject;

  const constraints = issuing.parsed.getExtension(x509.BasicConstraintsExtension);
  if (constraints?.ca !== true) throw fail('CA_NOT_A_CA', `"${subject}" has no CA:true`);
  // Its own pathLenConstraint (0 or absent) never stops it issuing end-entity certificates.
  const usage = issuing.parsed.getExtension(x509.KeyUsagesExtension);
  if (usage === null || (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw fail('CA_NO_KEY_CERT_SIGN', `"${subject}" keyUsage lacks keyCertSign`);
  }
  checkValidity(issuing, now, 'the CA certificate');

  const algorithm = caKeyAlgorithmOf(issuing.node.publicKey);
  if (algorithm === undefined) {
    throw fail('CA_KEY_UNSUPPORTED', `certificate key is ${keyName(issuing.node.publicKey)}`);
  }
  if (candidate.privateKey !== undefined) {
    if (caKeyAlgorithmOf(candidate.privateKey) === undefined) {
      throw fail('CA_KEY_UNSUPPORTED', `private key is ${keyName(candidate.privateKey)}`);
    }
    // A signature round trip, not only the public key the key file carries (provesKeyPair).
    if (!provesKeyPair(issuing.node, candidate.privateKey)) {
      throw fail('CA_KEY_MISMATCH', `the key is not the key of "${subject}"`);
    }
  }

  const path = buildPath(issuing, pool);
  path.forEach((cert, depth) => {
    if (depth === 0) return;
    const bc = cert.parsed.getExtension(x509.BasicConstraintsExtension);
    // A v1 root (no extensions at all) is still accepted as a trust anchor, as OpenSSL does.
    const v1Root = depth === path.length - 1 && cert.parsed.extensions.length === 0;
    if (bc?.ca !== true && !v1Root) {
      throw fail('CA_CHAIN_BROKEN', `"${cert.parsed.subject}" in the chain is not a CA`);
    }
    checkValidity(cert, now, 'chain certificate');
    // `depth` CAs sit between this one and the leaves the issuing CA will sign: the issuing CA
    // and the intermediates below this one. Self-issued intermediates are counted too (stricter
    // than RFC 5280 6.1.4 (l); no line PKI relies on that nuance).
    if (bc?.pathLength !== undefined && bc.pathLength < depth) {
      throw fail(
        'CA_PATHLEN_VIOLATED',
        `"${cert.parsed.subject}" allows ${bc.pathLength} CA(s) below it, the path has ${depth}`,
      );
    }
  });

  // An extended key usage on a CA limits what it may certify (as verifiers such as OpenSSL
  // read it): one without clientAuth would pass every device on the line, and every device
  // would then fail to authenticate to DPS.
  for (const cert of path) {
    const eku = cert.parsed.getExtension(x509.ExtendedKeyUsageExtension);
    const usages = eku?.usages.map(String);
    if (usages && !usages.includes(OID.clientAuth) && !usages.includes(OID.anyExtendedKeyUsage)) {
      throw fail(
        'CA_EKU_EXCLUDES_CLIENT_AUTH',
        `"${cert.parsed.subject}" allows only ${usages.join(', ')}`,
      );
    }
  }

  return {
    certificateDer: issuing.der,
    chainDer: path.slice(1).map((c) => c.der),
    subject,
    notBefore: issuing.parsed.notBefore,
    notAfter: issuing.parsed.notAfter,
    issuesWithin: {
      notBefore: new Date(Math.max(...path.map((c) => c.parsed.notBefore.getTime()))),
      notAfter: new Date(Math.min(...path.map((c) => c.parsed.notAfter.getTime()))),
    },
    ...algorithm,
  };
}
