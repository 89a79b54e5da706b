import type Database from 'better-sqlite3';
import { maybeInDps } from './retirementRules.js';

/**
 * What a revocation did to the outbox row that carries the certificate:
 * - `withheld`: never sent nor carried in a bundle; it now stays out of DPS for good;
 * - `withheld-disabling`: withheld, but an earlier send or bundle may have put it in DPS: the
 *   sync disables DPS's record if it holds this certificate;
 * - `disabling`: in DPS (synced): the sync disables DPS's record if it holds this certificate;
 * - `superseded`: the device was provisioned again since; if DPS may hold this one, it is
 *   disabled there as well (its later enrollment, once synced, replaces it under the same ID).
 */
export type RevocationAction = 'withheld' | 'withheld-disabling' | 'disabling' | 'superseded';

/** The outbox row of a revoked certificate, and what the revocation did to it. */
export interface RevokedEnrollment {
  id: number;
  /** The row's status before the revocation. */
  status: string;
  action: RevocationAction;
}

/** The station code a withheld row keeps in `last_error_code`; `queue requeue` refuses it. */
export const REVOKED_CODE = 'SYNC_CERTIFICATE_REVOKED';

/** Statuses of a row not (yet) known to be in DPS: each is withheld. */
const UNSENT = new Set(['pending', 'syncing', 'failed', 'conflict']);

/**
 * Keeps a revoked certificate out of DPS, in the revocation's own transaction. Before this, a
 * revoked certificate's enrollment still went to DPS at the next sync and the device could
 * register with it: the supervisor had to watch for the sync and disable it by hand.
 *
 * A row not yet in DPS becomes `failed` with SYNC_CERTIFICATE_REVOKED: the worker claims only
 * `pending` rows, requeue refuses it, and a batch in flight that claimed it (`syncing`) has its
 * settlement dropped, since a settlement applies only to a row still syncing under its claim
 * (outboxSyncStore.ts). A row DPS may hold (synced, sent before, or carried in a bundle) is
 * due to be disabled there (migration 022), superseded or not: the worker reads DPS's record
 * and disables it with If-Match only when it holds this certificate (revocationDisables.ts),
 * never another party's record, nor the device's later one after it was provisioned again under
 * the same ID.
 */
export class RevokedEnrollments {
  private readonly find: Database.Statement;
  private readonly withhold: Database.Statement;
  private readonly disable: Database.Statement;

  constructor(db: Database.Database) {
    // The run that installed the certificate made the enrollment: found by the run, not by the
    // registration ID, whose live enrollment may carry a later certificate.
    this.find = db.prepare(`SELECT e.id, e.status, ${maybeInDps('e')} AS maybeInDps
      FROM enrollments e JOIN runs r ON r.id = e.run_id
      WHERE r.certificate_serial = ? ORDER BY e.id DESC LIMIT 1`);
    this.withhold = db.prepare(`UPDATE enrollments SET status = 'failed',
        last_error_code = '${REVOKED_CODE}', last_error = ?, next_attempt_at = NULL,
        needs_reconcile = 0, updated_at = ?
      WHERE id = ?`);
    this.disable = db.prepare(`INSERT OR IGNORE INTO revocation_disables
      (enrollment_id, certificate_serial, created_at) VALUES (?, ?, ?)`);
  }

  /** Applies the revocation of certificate `serialNumber` to its row; undefined when none. */
  apply(serialNumber: string, reason: string, at: Date): RevokedEnrollment | undefined {
    const row = this.find.get(serialNumber) as
      { id: number; status: string; maybeInDps: 0 | 1 } | undefined;
    if (row === undefined) return undefined;
    const iso = at.toISOString();
    if (UNSENT.has(row.status)) {
      // A batch may have sent a `syncing` row already: DPS may hold it when the answer is lost.
      const due = row.maybeInDps === 1 || row.status === 'syncing';
      const why = `certificate ${serialNumber} was revoked (${reason}): the station never sends this enrollment`;
      this.withhold.run(why.slice(0, 1024), iso, row.id);
      if (due) this.disable.run(row.id, serialNumber, iso);
      return { id: row.id, status: row.status, action: due ? 'withheld-disabling' : 'withheld' };
    }
    if (row.status === 'synced') {
      this.disable.run(row.id, serialNumber, iso);
      return { id: row.id, status: row.status, action: 'disabling' };
    }
    // Provisioned again since: the later enrollment replaces this one in DPS once it is synced,
    // or never (withheld, failed, or under another ID): until then DPS may hold this one.
    if (row.maybeInDps === 1) this.disable.run(row.id, serialNumber, iso);
    return { id: row.id, status: row.status, action: 'superseded' };
  }
}
