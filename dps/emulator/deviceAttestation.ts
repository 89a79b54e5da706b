import type { X509Certificate } from 'node:crypto';
import { deriveDeviceKey, parseSasToken, sasResource, sasSignatureMatches } from '../auth/sas.js';
import type {
  AttestationMechanism,
  EnrollmentGroup,
  IndividualEnrollment,
  X509CertificateRef,
} from '../service/serviceTypes.js';
import {
  commonName,
  currentlyValid,
  parseCertificateText,
  sameCertificate,
} from './certificateInfo.js';
import type { EmulatorStore } from './emulatorStore.js';
import { unauthorized } from './errorBodies.js';
import type { TpmIdentities } from './tpmIdentities.js';
import { buildPath, pathReaches, reachesVerifiedCa, verifiedCaNamed } from './x509Chains.js';

/**
 * Device attestation for the registration API (dps-protocol.md §2.3–§2.5): which enrollment a
 * registering device belongs to, proven by its TLS client certificate or its SAS token (signed
 * with a symmetric key, or by a TPM after its challenge, tpmIdentities.ts). An
 * individual enrollment for the registration ID decides alone; otherwise the first matching
 * enrollment group does. Every failure is a 401 (401002). A disabled match still attests, as in
 * DPS: the registration then ends `disabled` (deviceRoutes.ts), not in a 401.
 */
export interface AttestationContext {
  store: EmulatorStore;
  idScope: string;
  verifiedCas: readonly X509Certificate[];
  /** The identity keys sealed to TPM devices by their challenge (§2.5). */
  tpmIdentities: TpmIdentities;
}

export interface AttestedDevice {
  /** As the device sent it in the URL. */
  registrationId: string;
  type: 'x509' | 'symmetricKey' | 'tpm';
  individual?: IndividualEnrollment;
  group?: EnrollmentGroup;
  deviceId: string;
  /** TPM: the sealed key whose identity signed the token, repeated in the device's answers. */
  tpmAuthenticationKey?: string;
}

/** Attests with the SAS token when one is sent, else with the presented certificates. */
export function attestDevice(
  context: AttestationContext,
  registrationId: string,
  authorization: string | undefined,
  presented: readonly X509Certificate[],
): AttestedDevice {
  if (authorization !== undefined && authorization.trim() !== '') {
    return attestSasToken(context, registrationId, authorization.trim());
  }
  if (presented.length > 0) return attestX509(context, registrationId, presented);
  throw unauthorized('the device sent neither a SAS token nor a client certificate.');
}

/** A SAS token: signed by a symmetric key, or by a TPM with the identity key DPS sealed to it. */
function attestSasToken(
  { store, idScope, tpmIdentities }: AttestationContext,
  registrationId: string,
  authorization: string,
): AttestedDevice {
  const fields = parseSasToken(authorization);
  if (fields === undefined) throw unauthorized('the Authorization header is not a SAS token.');
  if (fields.skn !== 'registration')
    throw unauthorized('a device token must use skn=registration.');
  if (fields.se <= Math.floor(Date.now() / 1000)) throw unauthorized('the token has expired.');
  if (sasResource(fields) !== `${idScope}/registrations/${registrationId}`.toLowerCase()) {
    throw unauthorized('the token resource is not this ID scope and registration ID.');
  }
  const individual = store.get<IndividualEnrollment>('enrollments', registrationId)?.record;
  if (individual?.attestation.type === 'tpm') {
    const device = accepted(
      registrationId,
      'tpm',
      { individual },
      individual.deviceId ?? registrationId,
    );
    const identity = tpmIdentities.verify(registrationId, individual, fields);
    return { ...device, tpmAuthenticationKey: identity.authenticationKey };
  }
  if (individual !== undefined) {
    const keys = symmetricKeys(individual.attestation);
    if (!keys.some((key) => sasSignatureMatches(fields, key))) {
      throw unauthorized('the token is not signed with this enrollment’s key.');
    }
    return accepted(
      registrationId,
      'symmetricKey',
      { individual },
      individual.deviceId ?? registrationId,
    );
  }
  for (const { record: group } of store.all<EnrollmentGroup>('enrollment_groups')) {
    const derived = symmetricKeys(group.attestation).map((key) =>
      deriveDeviceKey(key, registrationId),
    );
    if (derived.some((key) => sasSignatureMatches(fields, key))) {
      return accepted(registrationId, 'symmetricKey', { group }, registrationId);
    }
  }
  throw unauthorized('no enrollment matches this device key.');
}

function attestX509(
  { store, verifiedCas }: AttestationContext,
  registrationId: string,
  presented: readonly X509Certificate[],
): AttestedDevice {
  const leaf = presented[0]!;
  const cn = commonName(leaf);
  if (cn === undefined || cn.toLowerCase() !== registrationId.toLowerCase()) {
    throw unauthorized('the certificate CN is not the registration ID.');
  }
  if (!currentlyValid(leaf))
    throw unauthorized('the device certificate is expired or not yet valid.');
  const individual = store.get<IndividualEnrollment>('enrollments', registrationId)?.record;
  if (individual !== undefined) {
    const anchors = x509Anchors(individual.attestation, 'clientCertificates', verifiedCas);
    const device = accepted(registrationId, 'x509', { individual }, individual.deviceId ?? cn);
    // The enrollment holding the leaf itself is proof enough; no CA is involved.
    if (anchors.some((anchor) => sameCertificate(leaf, anchor))) return device;
    const cas = anchors.filter((anchor) => anchor.ca && pathReaches(leaf, presented, anchor));
    if (cas.length === 0) {
      throw unauthorized('the certificate does not match the individual enrollment.');
    }
    // Matched by chain: DPS also wants that chain to reach a CA uploaded and verified there.
    const verified = cas.some((ca) =>
      reachesVerifiedCa(buildPath(leaf, [...presented.slice(1), ca, ...verifiedCas]), verifiedCas),
    );
    if (!verified) throw unverifiedChain();
    return device;
  }
  const groups = store
    .all<EnrollmentGroup>('enrollment_groups')
    .map(({ record }) => ({
      group: record,
      anchors: x509Anchors(record.attestation, 'signingCertificates', verifiedCas),
    }))
    .filter(({ anchors }) => anchors.length > 0);
  const pool = [...presented.slice(1), ...groups.flatMap(({ anchors }) => anchors), ...verifiedCas];
  const path = buildPath(leaf, pool);
  // Walk up from the leaf: the group for the nearest certificate wins (§2.3).
  for (const certificate of path.slice(1)) {
    const match = groups.find(({ anchors }) =>
      anchors.some((anchor) => sameCertificate(anchor, certificate)),
    );
    if (match === undefined) continue;
    // A CA inlined in a group is not trusted for being there: DPS wants a verified one (§2.3).
    if (!reachesVerifiedCa(path, verifiedCas)) throw unverifiedChain();
    return accepted(registrationId, 'x509', { group: match.group }, cn);
  }
  throw unauthorized('no enrollment matches this certificate chain.');
}

function unverifiedChain(): Error {
  return unauthorized('the certificate chain does not reach a verified CA certificate.');
}

/** The certificates an X.509 attestation trusts: its own, and verified CAs it references. */
function x509Anchors(
  attestation: AttestationMechanism,
  slot: 'clientCertificates' | 'signingCertificates',
  verifiedCas: readonly X509Certificate[],
): X509Certificate[] {
  if (attestation.type !== 'x509' || attestation.x509 === undefined) return [];
  const pair = attestation.x509[slot];
  const own = [pair?.primary, pair?.secondary]
    .filter((ref): ref is X509CertificateRef => ref?.certificate !== undefined)
    .map((ref) => parseCertificateText(ref.certificate!))
    .filter((cert): cert is X509Certificate => cert !== undefined);
  const refs = attestation.x509.caReferences;
  const referenced = [refs?.primary, refs?.secondary]
    .filter((name): name is string => typeof name === 'string')
    .map((name) => verifiedCaNamed(name, verifiedCas))
    .filter((cert): cert is X509Certificate => cert !== undefined);
  return [...own, ...referenced];
}

function symmetricKeys(attestation: AttestationMechanism): string[] {
  if (attestation.type !== 'symmetricKey') return [];
  const keys = attestation.symmetricKey;
  return [keys?.primaryKey, keys?.secondaryKey].filter(
    (key): key is string => typeof key === 'string' && key !== '',
  );
}

function accepted(
  registrationId: string,
  type: AttestedDevice['type'],
  match: { individual?: IndividualEnrollment; group?: EnrollmentGroup },
  deviceId: string,
): AttestedDevice {
  return { registrationId, type, ...match, deviceId };
}

/** The device's enrollment (individual, or the group it matched) is disabled in DPS. */
export function enrollmentDisabled(device: AttestedDevice): boolean {
  return (device.individual ?? device.group)?.provisioningStatus === 'disabled';
}
