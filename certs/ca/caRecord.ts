import { CertError } from '../certErrors.js';
import { certificatesFromPem } from './pemCertificates.js';
import type { CaKeyAlgorithm } from './validateIssuingCa.js';

/** How the station came by its CA. */
export type CaMode = 'station-root' | 'imported';

/**
 * `ca.json`: what the station knows about its CA, without a single secret. Certificates are kept
 * as PEM so a supervisor can read them with `openssl x509` straight from the folder.
 */
export interface CaRecord {
  format: 'line-station/ca';
  version: 1;
  mode: CaMode;
  issuingCertificatePem: string;
  /** Certificates above the issuing CA, its issuer first, ending with the self-signed root. */
  chainPems: string[];
  /** ISO 8601. */
  createdAt: string;
  keyAlgorithm: CaKeyAlgorithm;
}

const KEY_ALGORITHM = /^(?:P-256|P-384|RSA-\d{4,5})$/;

function corrupt(detail: string, cause?: unknown): CertError {
  return new CertError('CA_RECORD_CORRUPT', detail, { cause });
}

/** Exactly one certificate, or CA_RECORD_CORRUPT. */
function onePem(value: unknown, what: string): string {
  if (typeof value !== 'string') throw corrupt(`${what} is missing`);
  let count: number;
  try {
    count = certificatesFromPem(value).length;
  } catch (err) {
    throw corrupt(`${what} is not PEM`, err);
  }
  if (count !== 1) throw corrupt(`${what} holds ${count} certificates, expected 1`);
  return value;
}

/**
 * Reads `ca.json`. Throws CA_RECORD_CORRUPT for anything but a well-formed version 1 record; the
 * certificates themselves are judged later, by validateIssuingCa.
 */
export function parseCaRecord(text: string): CaRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt('ca.json is not valid JSON', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt('ca.json is not a JSON object');
  }
  const r = value as Record<string, unknown>;
  if (r.format !== 'line-station/ca' || r.version !== 1) {
    throw corrupt('ca.json is not a version 1 CA record');
  }
  if (r.mode !== 'station-root' && r.mode !== 'imported') throw corrupt('unknown CA mode');
  if (typeof r.keyAlgorithm !== 'string' || !KEY_ALGORITHM.test(r.keyAlgorithm)) {
    throw corrupt('unknown key algorithm');
  }
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt))) {
    throw corrupt('createdAt is not a date');
  }
  if (!Array.isArray(r.chainPems)) throw corrupt('chainPems is not a list');
  return {
    format: 'line-station/ca',
    version: 1,
    mode: r.mode,
    issuingCertificatePem: onePem(r.issuingCertificatePem, 'issuingCertificatePem'),
    chainPems: r.chainPems.map((pem, i) => onePem(pem, `chainPems[${i}]`)),
    createdAt: r.createdAt,
    keyAlgorithm: r.keyAlgorithm as CaKeyAlgorithm,
  };
}

export function serialiseCaRecord(record: CaRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
