import { verify, X509Certificate, type KeyObject } from 'node:crypto';
import { certificateToPem } from '../../../certs/ca/pemCertificates.js';
import type { IssuedCertificate } from '../../../certs/stationCa.js';
import { CHALLENGE_KIND_X509, type Curve } from '../../../firmware-bridge/codec/messages.js';
import type { ChallengeCheck } from '../steps/verifyDevice.js';
import type { AttestedIdentity } from './attestor.js';

/** A leaf and the CA chain above it (issuing CA first, root last). */
export type LeafWithChain = Pick<IssuedCertificate, 'certificateDer' | 'chainDer'>;

/**
 * What the device presents to DPS: its leaf and the intermediates, never the root (DPS holds
 * the root as a verified CA; sending it only costs bytes on the wire).
 */
export function deviceChain(issued: LeafWithChain): Uint8Array[] {
  return [issued.certificateDer, ...issued.chainDer.slice(0, -1)];
}

/** The device proves it holds the key of `certificateDer` by signing the challenge with it. */
export function x509Challenge(certificateDer: Uint8Array, curve: Curve): ChallengeCheck {
  return leafKeyChallenge(new X509Certificate(certificateDer).publicKey, curve);
}

/** As x509Challenge, with the leaf's key at hand (IssuedCertificate.publicKey). */
export function leafKeyChallenge(publicKey: KeyObject, curve: Curve): ChallengeCheck {
  const hash = curve === 'P-384' ? 'sha384' : 'sha256';
  return {
    kind: CHALLENGE_KIND_X509,
    check: (message, signature) =>
      verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature),
  };
}

/** The identity of both X.509 modes: the leaf in the enrollment, its key behind the challenge. */
export function x509Identity(issued: IssuedCertificate, curve: Curve): AttestedIdentity {
  return {
    attestation: {
      type: 'x509',
      x509: {
        clientCertificates: { primary: { certificate: certificateToPem(issued.certificateDer) } },
      },
    },
    certificateSerial: issued.serialNumber,
    challenge: leafKeyChallenge(issued.publicKey, curve),
    dispose: () => undefined,
  };
}
