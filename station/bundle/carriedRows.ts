import type Database from 'better-sqlite3';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import { heldByGroupMember, MEMBER_ATTESTATION } from '../store/retirementRules.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import { BundleError } from './bundleErrors.js';
import {
  MAX_BUNDLE_RETIREMENTS,
  bodySha256,
  type BundleEnrollment,
  type BundleRetirement,
} from './bundlePayload.js';

/**
 * Outbox rows as `bundle export` reads them and as a bundle carries them: pending rows, their
 * earlier enrollments, and superseded rows due for retirement in DPS (migration 017).
 */

/** An outbox row with its device, as the export reads it. */
export interface Row {
  id: number;
  registrationId: string;
  attestation: BundleEnrollment['attestation'];
  body: string;
  sealedSecret: string | null;
  attempts: number;
  needsReconcile: 0 | 1;
  serialNumber: string;
  model: string;
  createdAt: string;
  supersededBy: number | null;
}

/** The columns of a Row, from `enrollments e` joined with `devices d`. */
export const COLUMNS = `e.id, e.registration_id AS registrationId, e.attestation, e.body,
  e.sealed_secret AS sealedSecret, e.attempts, e.needs_reconcile AS needsReconcile,
  d.serial_number AS serialNumber, d.model, e.created_at AS createdAt,
  e.superseded_by AS supersededBy`;

/**
 * A superseded row due for retirement, with the registration ID that replaced its own (none
 * known for a row superseded before the station linked successors).
 */
export type RetirementRow = Row & { successorRegistrationId: string | null; heldByGroup: 0 | 1 };

/**
 * The ids of the superseded rows a bundle carries to be retired: those due (migration 017's index
 * of due rows), and the earlier individual rows found another party's under the ID of a group
 * member still pending. The syncing machine must read DPS for those again before it confirms
 * the member (it answers a conflict while that record is there), as this station's own worker
 * does (batchSync.ts); carried as history alone, they would not stop it. The rows to disable
 * for a revoked certificate (migration 022) go the same way: the syncing machine disables
 * DPS's record only when it holds that row's credential, as it retires a superseded row.
 */
const RETIRING_IDS = `SELECT id FROM enrollments WHERE retirement = 'due'
  UNION SELECT enrollment_id FROM revocation_disables WHERE state = 'due'
  UNION SELECT e.id FROM enrollments m JOIN enrollments e
    ON e.registration_id = m.registration_id COLLATE NOCASE AND e.status = 'superseded'
      AND e.attestation != ${MEMBER_ATTESTATION} AND e.retirement = 'not-ours'
  WHERE m.status = 'pending' AND m.attestation = ${MEMBER_ATTESTATION}`;

/**
 * The superseded rows to retire (RETIRING_IDS), up to MAX_BUNDLE_RETIREMENTS: first those under a
 * group member's ID (a member waits for them), then the oldest. Every bundle carries them,
 * whether or not an earlier one did: retiring is read-compare-write in DPS, so a row retired
 * twice ends the same, and the line settles only a row still due.
 */
export function dueRetirementRows(db: Database.Database): RetirementRow[] {
  return db
    .prepare(
      `SELECT ${COLUMNS}, s.registration_id AS successorRegistrationId,
         ${heldByGroupMember('e')} AS heldByGroup
       FROM enrollments e JOIN devices d ON d.id = e.device_id
         LEFT JOIN enrollments s ON s.id = e.superseded_by
       WHERE e.id IN (${RETIRING_IDS}) ORDER BY heldByGroup DESC, e.id LIMIT ?`,
    )
    .all(MAX_BUNDLE_RETIREMENTS) as RetirementRow[];
}

/** How many superseded rows a bundle would carry to be retired, without the cap (RETIRING_IDS). */
export function dueRetirementCount(db: Database.Database): number {
  return db.prepare(`SELECT count(*) FROM (${RETIRING_IDS})`).pluck().get() as number;
}

/**
 * The retirements a bundle carries. A row whose key does not open here is left out and stays
 * due (the line's own worker, or a later bundle, retires it once it opens): retiring an old
 * enrollment must never stop the new ones from travelling.
 */
export async function carriedRetirements(
  rows: RetirementRow[],
  opener: OpenSecret | undefined,
): Promise<BundleRetirement[]> {
  const out: BundleRetirement[] = [];
  for (const row of rows) {
    try {
      const successor = row.successorRegistrationId;
      out.push({
        ...(await carried(row, opener)),
        ...(successor !== null && { successorRegistrationId: successor }),
        ...(row.heldByGroup === 1 && { heldByGroup: true }),
      });
    } catch (err) {
      if (!(err instanceof BundleError) || err.code !== 'BUNDLE_SECRET_LOCKED') throw err;
    }
  }
  return out;
}

/** One row as the bundle carries it, a symmetric-key-individual row with its key opened. */
export async function carried(row: Row, opener: OpenSecret | undefined): Promise<BundleEnrollment> {
  const entry: BundleEnrollment = {
    id: row.id,
    registrationId: row.registrationId,
    attestation: row.attestation,
    body: row.body,
    bodySha256: bodySha256(row.body),
    attempts: row.attempts,
    needsReconcile: row.needsReconcile === 1,
    serialNumber: row.serialNumber,
    model: row.model,
    createdAt: row.createdAt,
  };
  if (row.attestation !== 'symmetric-key-individual' || row.sealedSecret === null) return entry;
  if (opener === undefined) {
    throw new BundleError('BUNDLE_SECRET_LOCKED', `enrollment ${row.id}: no CA passphrase given`);
  }
  let key: Uint8Array;
  try {
    key = await opener(row.sealedSecret, symmetricKeySealContext(row.registrationId));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new BundleError(
      'BUNDLE_SECRET_LOCKED',
      `enrollment ${row.id}: ${typeof code === 'string' ? code : 'open failed'}`,
      { cause: err },
    );
  }
  try {
    return { ...entry, symmetricKey: Buffer.from(key).toString('base64') };
  } finally {
    key.fill(0);
  }
}
