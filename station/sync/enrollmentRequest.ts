import type { AttestationMechanism, IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import {
  fingerprintOf,
  fingerprintOfBytes,
  type CredentialFingerprint,
} from './credentialFingerprint.js';
import { SyncError } from './syncErrors.js';

/**
 * Opens a sealed secret of the outbox (SealedSecret JSON) for `context`. The caller zeroes the
 * returned bytes. Injected, so the worker never holds the station's key wrapper itself.
 */
export type OpenSecret = (sealedJson: string, context: string) => Promise<Uint8Array>;

/** An outbox row as the worker reads it. `sealedSecret` never leaves the worker. */
export interface OutboxRow {
  id: number;
  registrationId: string;
  attestation: string;
  body: string;
  sealedSecret: string | null;
  attempts: number;
  /** DPS may hold it already: read DPS before creating it (see migration 003). */
  needsReconcile: boolean;
}

/** A row made ready to send: the DPS request (with its key, for symmetric rows) and whose it is. */
export interface PreparedEnrollment {
  row: OutboxRow;
  enrollment: IndividualEnrollment;
  fingerprint: CredentialFingerprint;
}

/**
 * Builds the DPS request of a claimed row. A symmetric-key-individual row gets its key unsealed
 * into `attestation.symmetricKey.primaryKey` here and nowhere else: only in the request object,
 * which the worker drops once the calls of its batch are done. Throws SyncError:
 * SYNC_BODY_INVALID, SYNC_SECRET_MISSING, SYNC_SECRET_UNREADABLE, SYNC_SECRET_LOCKED.
 */
export async function prepareEnrollment(
  row: OutboxRow,
  openSecret: OpenSecret,
): Promise<PreparedEnrollment> {
  const body = parseBody(row);
  const { attestation, fingerprint } = await ourAttestation(row, body, openSecret);
  // A create must not carry an etag; DPS sets it.
  const { etag: _etag, ...rest } = body;
  return { row, enrollment: { ...rest, attestation }, fingerprint };
}

/** The credential fingerprint of a row (an earlier, superseded enrollment of ours). */
export async function fingerprintOfRow(
  row: OutboxRow,
  openSecret: OpenSecret,
): Promise<CredentialFingerprint> {
  return (await ourAttestation(row, parseBody(row), openSecret)).fingerprint;
}

function parseBody(row: OutboxRow): IndividualEnrollment {
  let body: unknown;
  try {
    body = JSON.parse(row.body);
  } catch {
    throw new SyncError('SYNC_BODY_INVALID', `enrollment ${row.id}: body is not JSON`);
  }
  const candidate = body as Partial<IndividualEnrollment> | null;
  const type = candidate?.attestation?.type;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.registrationId !== 'string' ||
    candidate.registrationId.toLowerCase() !== row.registrationId.toLowerCase() ||
    !['x509', 'tpm', 'symmetricKey'].includes(type as string)
  ) {
    throw new SyncError(
      'SYNC_BODY_INVALID',
      `enrollment ${row.id}: body lacks a matching registrationId or a known attestation type`,
    );
  }
  return candidate as IndividualEnrollment;
}

async function ourAttestation(
  row: OutboxRow,
  body: IndividualEnrollment,
  openSecret: OpenSecret,
): Promise<{ attestation: AttestationMechanism; fingerprint: CredentialFingerprint }> {
  if (row.attestation !== 'symmetric-key-individual') {
    const fingerprint = fingerprintOf(body.attestation);
    if (fingerprint?.sha256 === undefined) {
      throw new SyncError('SYNC_BODY_INVALID', `enrollment ${row.id}: no credential in the body`);
    }
    return { attestation: body.attestation, fingerprint };
  }
  const key = await unsealKey(row, openSecret);
  try {
    return {
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key.toString('base64') } },
      fingerprint: fingerprintOfBytes('symmetricKey', key),
    };
  } finally {
    key.fill(0);
  }
}

async function unsealKey(row: OutboxRow, openSecret: OpenSecret): Promise<Buffer> {
  if (row.sealedSecret === null) {
    throw new SyncError('SYNC_SECRET_MISSING', `enrollment ${row.id}: no sealed key`);
  }
  let opened: Uint8Array;
  try {
    opened = await openSecret(row.sealedSecret, symmetricKeySealContext(row.registrationId));
  } catch (err) {
    // Damage is the row's; a wrong passphrase or an unavailable key store is the station's,
    // and the row waits for it to be fixed.
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : 'open failed';
    throw new SyncError(
      code === 'CUSTODY_KEY_FILE_CORRUPT' ? 'SYNC_SECRET_UNREADABLE' : 'SYNC_SECRET_LOCKED',
      `enrollment ${row.id}: ${reason}`,
      { cause: err },
    );
  }
  // A view, so zeroing it wipes the opener's buffer too.
  const key = Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
  if (key.length === 0 || key.every((byte) => byte === 0)) {
    key.fill(0);
    throw new SyncError('SYNC_SECRET_MISSING', `enrollment ${row.id}: the sealed key is empty`);
  }
  return key;
}
