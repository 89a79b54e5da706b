import { randomBytes } from 'node:crypto';
import type { AttestationMechanism, X509CertificateRef } from '../service/serviceTypes.js';
import { certificateInfo, parseCertificateText } from './certificateInfo.js';
import { badRequest } from './errorBodies.js';

/** Individual enrollments and enrollment groups differ in which attestations they allow. */
export type EnrollmentKind = 'enrollment' | 'group';

/** DPS generates 64-byte keys when a symmetric-key attestation omits them (§1.7). */
const GENERATED_KEY_BYTES = 64;

/**
 * Checks an enrollment's `attestation` and returns the form the emulator stores and answers:
 * only the sub-object of its type, certificates parsed with `info` filled, missing symmetric
 * keys generated. Throws a 400 saying what is wrong (never echoing a key).
 */
export function normalizeAttestation(kind: EnrollmentKind, value: unknown): AttestationMechanism {
  const attestation = objectOrFail(value, 'attestation');
  switch (attestation.type) {
    case 'x509':
      return { type: 'x509', x509: normalizeX509(kind, attestation.x509) };
    case 'symmetricKey':
      return { type: 'symmetricKey', symmetricKey: normalizeKeys(attestation.symmetricKey) };
    case 'tpm':
      if (kind === 'group') throw badRequest('Enrollment groups do not support TPM attestation.');
      return { type: 'tpm', tpm: normalizeTpm(attestation.tpm) };
    default:
      throw badRequest('attestation.type must be x509, symmetricKey or tpm.');
  }
}

function normalizeX509(
  kind: EnrollmentKind,
  value: unknown,
): NonNullable<AttestationMechanism['x509']> {
  const x509 = objectOrFail(value, 'attestation.x509');
  const own = kind === 'enrollment' ? 'clientCertificates' : 'signingCertificates';
  const other = kind === 'enrollment' ? 'signingCertificates' : 'clientCertificates';
  if (x509[other] !== undefined && x509[other] !== null) {
    throw badRequest(
      `attestation.x509.${other} is not allowed on ${kind === 'enrollment' ? 'an individual enrollment' : 'an enrollment group'}.`,
    );
  }
  const result: NonNullable<AttestationMechanism['x509']> = {};
  if (x509[own] !== undefined && x509[own] !== null) {
    const pair = objectOrFail(x509[own], `attestation.x509.${own}`);
    const primary = certificateRef(pair.primary, `attestation.x509.${own}.primary`);
    if (primary === undefined) {
      throw badRequest(`attestation.x509.${own}.primary.certificate is required.`);
    }
    const secondary = certificateRef(pair.secondary, `attestation.x509.${own}.secondary`);
    result[own] = secondary ? { primary, secondary } : { primary };
  }
  if (x509.caReferences !== undefined && x509.caReferences !== null) {
    const refs = objectOrFail(x509.caReferences, 'attestation.x509.caReferences');
    if (typeof refs.primary !== 'string' || refs.primary.trim() === '') {
      throw badRequest('attestation.x509.caReferences.primary must name a verified CA.');
    }
    if (
      refs.secondary !== undefined &&
      refs.secondary !== null &&
      typeof refs.secondary !== 'string'
    ) {
      throw badRequest('attestation.x509.caReferences.secondary must be a string.');
    }
    result.caReferences = {
      primary: refs.primary,
      ...(typeof refs.secondary === 'string' ? { secondary: refs.secondary } : {}),
    };
  }
  if (result[own] === undefined && result.caReferences === undefined) {
    throw badRequest(`attestation.x509 needs ${own}.primary or caReferences.primary.`);
  }
  return result;
}

function certificateRef(value: unknown, where: string): X509CertificateRef | undefined {
  if (value === undefined || value === null) return undefined;
  const ref = objectOrFail(value, where);
  if (typeof ref.certificate !== 'string' || ref.certificate.trim() === '') {
    throw badRequest(`${where}.certificate is required (PEM or base64 DER).`);
  }
  const certificate = parseCertificateText(ref.certificate);
  if (certificate === undefined) {
    throw badRequest(`${where}.certificate is not an X.509 certificate.`);
  }
  return { certificate: ref.certificate, info: { ...certificateInfo(certificate) } };
}

function normalizeKeys(value: unknown): NonNullable<AttestationMechanism['symmetricKey']> {
  const keys = value === undefined || value === null ? {} : objectOrFail(value, 'symmetricKey');
  return {
    primaryKey: keyOrGenerated(keys.primaryKey, 'primaryKey'),
    secondaryKey: keyOrGenerated(keys.secondaryKey, 'secondaryKey'),
  };
}

function keyOrGenerated(value: unknown, name: string): string {
  if (value === undefined || value === null || value === '') {
    return randomBytes(GENERATED_KEY_BYTES).toString('base64');
  }
  const bytes = typeof value === 'string' ? base64Bytes(value) : undefined;
  if (bytes === undefined || bytes < 16 || bytes > 64) {
    throw badRequest(`attestation.symmetricKey.${name} must be base64 of 16 to 64 bytes.`);
  }
  return value as string;
}

function normalizeTpm(value: unknown): NonNullable<AttestationMechanism['tpm']> {
  const tpm = objectOrFail(value, 'attestation.tpm');
  if (typeof tpm.endorsementKey !== 'string' || !base64Bytes(tpm.endorsementKey)) {
    throw badRequest('attestation.tpm.endorsementKey must be base64 (TPM2B_PUBLIC).');
  }
  const result: NonNullable<AttestationMechanism['tpm']> = { endorsementKey: tpm.endorsementKey };
  if (tpm.storageRootKey !== undefined && tpm.storageRootKey !== null) {
    if (typeof tpm.storageRootKey !== 'string' || !base64Bytes(tpm.storageRootKey)) {
      throw badRequest('attestation.tpm.storageRootKey must be base64.');
    }
    result.storageRootKey = tpm.storageRootKey;
  }
  return result;
}

/** The decoded length of strict base64, or undefined when it is not base64. */
export function base64Bytes(text: string): number | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64').length;
}

/** A JSON object (not null, not an array), or a 400 naming the field. */
export function objectOrFail(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${where} must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}
