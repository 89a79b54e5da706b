import { parseSealedSecret } from '../../certs/custody/secretBox.js';
import { ekSha256 } from '../../certs/tpm/ekRegistrationId.js';
import type { PassedRunRecord } from '../line/lineTypes.js';
import { StoreError } from './storeError.js';

/** Field names under which a DPS enrollment body would carry a symmetric key in clear. */
const SECRET_FIELDS = new Set(['primaryKey', 'secondaryKey']);

/**
 * Refuses a pass that would store something incomplete or a secret in clear. These are bugs in
 * the caller, not device faults, but they must fail the run instead of reaching the outbox: what
 * is in the outbox gets synced.
 */
export function checkPassedRunRecord(record: PassedRunRecord): void {
  const x509 =
    record.attestation === 'x509-device-key' || record.attestation === 'x509-station-key';
  if (x509 && record.certificateSerial === undefined) {
    throw new StoreError(
      'STORE_CERTIFICATE_STATE',
      `run ${record.runId} (${record.attestation}) reports no certificate serial`,
    );
  }
  if (record.attestation === 'symmetric-key-individual' && record.sealedSecret === undefined) {
    throw new StoreError(
      'STORE_RECORD_INVALID',
      `run ${record.runId} (symmetric-key-individual) has no sealed key for its enrollment`,
    );
  }
  if (record.attestation === 'tpm') checkEndorsementRecord(record);
  if (record.sealedSecret !== undefined) {
    try {
      parseSealedSecret(record.sealedSecret);
    } catch (err) {
      throw new StoreError(
        'STORE_RECORD_INVALID',
        `run ${record.runId}: the sealed secret is not a SealedSecret document`,
        { cause: err },
      );
    }
  }
  const secretAt = findClearSecret(record.enrollment, 'enrollment');
  if (secretAt !== undefined) {
    throw new StoreError(
      'STORE_RECORD_INVALID',
      `run ${record.runId}: the enrollment body holds a key in clear at ${secretAt}`,
    );
  }
}

/**
 * A TPM pass enrolls exactly the EK its evidence says was checked: an enrollment carrying
 * another key would reach DPS while the record vouches for a key nobody enrolled.
 */
function checkEndorsementRecord(record: PassedRunRecord): void {
  const checked = record.evidence?.endorsement?.ekSha256;
  if (checked === undefined) {
    throw new StoreError(
      'STORE_RECORD_INVALID',
      `run ${record.runId} (tpm) has no record of the endorsement key it checked`,
    );
  }
  const attestation = record.enrollment.attestation as
    { type?: unknown; tpm?: { endorsementKey?: unknown } } | undefined;
  const enrolled = attestation?.tpm?.endorsementKey;
  if (
    attestation?.type !== 'tpm' ||
    typeof enrolled !== 'string' ||
    ekSha256(Buffer.from(enrolled, 'base64')) !== checked
  ) {
    throw new StoreError(
      'STORE_RECORD_INVALID',
      `run ${record.runId} (tpm): the enrollment does not carry the endorsement key that was checked`,
    );
  }
}

/** The path of the first non-empty `primaryKey`/`secondaryKey` string, if the body has one. */
function findClearSecret(value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (SECRET_FIELDS.has(key) && typeof inner === 'string' && inner !== '') return at;
    const nested = findClearSecret(inner, at);
    if (nested !== undefined) return nested;
  }
  return undefined;
}
