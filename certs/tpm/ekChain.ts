import { CertError } from '../certErrors.js';
import { signatureScheme, signatureVerifies } from './certificateSignature.js';
import type { EkTrustStore, TrustedCa } from './ekTrustStore.js';
import type { VendorCertificate } from './vendorCertificate.js';

/**
 * The path from a certificate up to a TPM vendor root, and the validity policy for the CAs on
 * it.
 *
 * Validity policy. EK certificates and the vendor CAs above them are made to last for decades
 * (TCG EK certificates often end in 9999), vendors keep TPMs in stock for years, and the
 * station checks a chip once, when it is built into a device. So a CA is judged at the moment
 * it acted, the notBefore of the certificate it issued:
 *
 * - A CA that had already expired then is refused: its key signed after its certificate ended.
 * - A CA that has expired since is accepted, with a note for the run log.
 * - A CA whose certificate is dated after the certificate it issued is accepted, with a note.
 *   Vendors re-issue and cross-certify CA certificates for keys already in use: the shipped
 *   STM TPM EK Root CA certificate starts twelve hours after the STM Intermediate CA 01 it
 *   signed, the STM ECC root two weeks after its intermediate. The signature still proves that
 *   the key the (later) certificate vouches for made the link.
 *
 * The EK certificate itself must be valid now; that is ekCertificate.ts's check, made after
 * the path is proven.
 */

// Vendor hierarchies are two or three CAs deep; this bounds the search.
const MAX_CAS = 6;

/** A proven path: the CAs from the certificate's issuer up to a root of the store. */
export interface EkChain {
  cas: TrustedCa[];
  /** What the policy accepted on the way, in plain words. */
  notes: string[];
}

interface Refusal {
  depth: number;
  detail: string;
}

/**
 * Finds CAs of `trust`, each found by the issuer name of the certificate below it and proven by
 * a signature that verifies with its key, up to a self-signed root of the store. Several CAs
 * may share a name (a re-keyed CA); each is tried. Throws CertError EK_CERT_UNTRUSTED with the
 * refusal that got furthest: the issuer no CA of the store is named after, or why the CAs of
 * that name cannot have issued it.
 */
export function buildEkChain(cert: VendorCertificate, trust: EkTrustStore, now: Date): EkChain {
  const found = extend(cert, [], trust);
  if (!Array.isArray(found)) throw new CertError('EK_CERT_UNTRUSTED', found.detail);
  return { cas: found, notes: notesFor(cert, found, now) };
}

/**
 * The path from `ca` to a root of `trust` that an EK certificate `ca` issued would take: `ca`
 * first, the root last (`[ca]` for a root). Otherwise why there is none. The link from the EK
 * certificate to `ca` is not judged: its dates are the EK certificate's.
 */
export function pathToRoot(ca: TrustedCa, trust: EkTrustStore): TrustedCa[] | string {
  if (ca.root) return [ca];
  // With `ca` already on the path, each CA above it is checked as an EK certificate's would be
  // (its pathLenConstraint counts `ca` below it).
  const found = extend(ca.cert, [ca], trust);
  return Array.isArray(found) ? found : found.detail;
}

/**
 * How a certificate is named in messages and in the chain: its subject, or for an EK its issuer.
 */
export function certificateLabel(cert: VendorCertificate): string {
  return cert.subject.label !== ''
    ? cert.subject.label
    : `EK certificate issued by ${cert.issuer.label}`;
}

function extend(
  child: VendorCertificate,
  above: TrustedCa[],
  trust: EkTrustStore,
): TrustedCa[] | Refusal {
  const depth = above.length;
  const candidates = trust
    .named(child.issuer)
    .filter((ca) => !above.includes(ca) && ca.cert !== child);
  if (candidates.length === 0) {
    return {
      depth,
      detail: `no CA named "${child.issuer.label}" in the TPM vendor trust store (issuer of "${certificateLabel(child)}")`,
    };
  }
  let best: Refusal | undefined;
  for (const ca of candidates) {
    const problem = linkProblem(child, ca, depth);
    let outcome: TrustedCa[] | Refusal;
    if (problem !== undefined) outcome = { depth, detail: problem };
    else if (ca.root) outcome = [...above, ca];
    else if (depth + 1 >= MAX_CAS) outcome = { depth, detail: `no root within ${MAX_CAS} CAs` };
    else outcome = extend(ca.cert, [...above, ca], trust);
    if (Array.isArray(outcome)) return outcome;
    if (best === undefined || outcome.depth > best.depth) best = outcome;
  }
  return best!;
}

/** Why `ca` cannot have issued `child`, with `below` CAs between child and it; else undefined. */
function linkProblem(child: VendorCertificate, ca: TrustedCa, below: number): string | undefined {
  const childName = certificateLabel(child);
  const caName = `"${ca.cert.subject.label}" (${ca.source})`;
  const verified = signatureVerifies(child, ca.publicKey);
  if (typeof verified === 'string') return `"${childName}" cannot be checked: ${verified}`;
  if (!verified) return `${caName} did not sign "${childName}": the signature does not verify`;
  if (ca.cert.keyCertSign === false) return `${caName} may not sign certificates (keyUsage)`;
  const pathLength = ca.cert.basicConstraints?.pathLength;
  if (pathLength !== undefined && pathLength < below) {
    return `${caName} allows ${pathLength} CA(s) below it; the path has ${below}`;
  }
  if (child.notBefore > ca.cert.notAfter) {
    return (
      `${caName} had expired (${day(ca.cert.notAfter)}) when it issued "${childName}" ` +
      `on ${day(child.notBefore)}`
    );
  }
  return undefined;
}

function notesFor(cert: VendorCertificate, cas: TrustedCa[], now: Date): string[] {
  const notes: string[] = [];
  let child = cert;
  for (const ca of cas) {
    const name = ca.cert.subject.label;
    const issued = `"${certificateLabel(child)}" on ${day(child.notBefore)}`;
    if (ca.cert.notAfter < now) {
      notes.push(
        `vendor CA "${name}" expired on ${day(ca.cert.notAfter)}; accepted because it was ` +
          `still valid when it issued ${issued}`,
      );
    }
    if (child.notBefore < ca.cert.notBefore) {
      notes.push(
        `the certificate of vendor CA "${name}" dates from ${minute(ca.cert.notBefore)}, after ` +
          `it issued "${certificateLabel(child)}" on ${minute(child.notBefore)}; accepted as a ` +
          `re-issued CA certificate for the same key`,
      );
    }
    const scheme = signatureScheme(child.signatureAlgorithm);
    if (typeof scheme !== 'string' && scheme.hash === 'sha1') {
      notes.push(
        `"${certificateLabel(child)}" is signed with SHA-1 by "${name}", as TPM vendors of that era did; accepted`,
      );
    }
    child = ca.cert;
  }
  return notes;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function minute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
