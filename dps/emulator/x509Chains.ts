import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { commonName, currentlyValid, issuedBy, sameCertificate } from './certificateInfo.js';

/**
 * Certificate chains for X.509 device attestation. The device presents its leaf and (usually)
 * its intermediates in the TLS handshake; the emulator builds the path itself, checking each
 * signature and validity period, towards the certificates that enrollments name and the CAs the
 * emulator treats as verified.
 */

/** Longest path followed; real device chains are 2-4 certificates. */
const MAX_PATH = 10;

/**
 * The certificates the client presented, leaf first, walking `issuerCertificate`. Empty when the
 * client sent none. TLS session resumption is off on the server, so every connection carries the
 * full chain (a resumed session would carry none).
 */
export function presentedChain(socket: TLSSocket): X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  let current = socket.getPeerCertificate(true) as
    { raw?: Buffer; fingerprint256?: string; issuerCertificate?: unknown } | undefined;
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  while (current?.raw && chain.length < MAX_PATH) {
    const fingerprint = current.fingerprint256 ?? '';
    if (seen.has(fingerprint)) break;
    seen.add(fingerprint);
    try {
      chain.push(new X509Certificate(current.raw));
    } catch {
      break;
    }
    current = current.issuerCertificate as typeof current;
  }
  return chain;
}

/**
 * The path from `leaf` upwards through certificates of `pool`: each step a currently valid CA
 * whose signature over the previous certificate verifies. Stops at a self-issued certificate or
 * when no issuer is known. The leaf comes first.
 */
export function buildPath(
  leaf: X509Certificate,
  pool: readonly X509Certificate[],
): X509Certificate[] {
  const path = [leaf];
  let current = leaf;
  while (path.length < MAX_PATH && !issuedBy(current, current)) {
    const issuer = pool.find(
      (candidate) =>
        candidate.ca &&
        currentlyValid(candidate) &&
        !path.some((inPath) => sameCertificate(inPath, candidate)) &&
        issuedBy(current, candidate),
    );
    if (issuer === undefined) break;
    path.push(issuer);
    current = issuer;
  }
  return path;
}

/** True when `anchor` is the leaf itself or lies on a verified path from it. */
export function pathReaches(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchor: X509Certificate,
): boolean {
  return buildPath(leaf, [...presented, anchor]).some((cert) => sameCertificate(cert, anchor));
}

/**
 * True when a built path holds one of the CAs the emulator treats as uploaded and verified: what
 * DPS asks of every device matched by its chain rather than by its own certificate (§2.3).
 */
export function reachesVerifiedCa(
  path: readonly X509Certificate[],
  verifiedCas: readonly X509Certificate[],
): boolean {
  return path.some((cert) => verifiedCas.some((ca) => sameCertificate(cert, ca)));
}

/** The verified CA a `caReferences` name stands for: the emulator matches the subject CN. */
export function verifiedCaNamed(
  name: string,
  verifiedCas: readonly X509Certificate[],
): X509Certificate | undefined {
  return verifiedCas.find((ca) => commonName(ca)?.toLowerCase() === name.toLowerCase());
}
