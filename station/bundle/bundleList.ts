import type Database from 'better-sqlite3';
import { bundleMayAnswer } from '../store/bundleRules.js';

/** A bundle this station exported, as `bundle list` shows it. */
export interface BundleListing {
  id: string;
  createdAt: string;
  file: string;
  enrollments: number;
  /** Superseded enrollments it carried to be disabled in DPS (0 when recorded before 018). */
  retirements: number;
  /** Carried rows still pending here that no receipt of it answered (none came, or DPS did not). */
  stillPending: number;
  /** When its file was written and read back; null: recorded, never written (it carries nothing). */
  writtenAt: string | null;
  receivedAt: string | null;
  /** The DPS its first applied receipt was synced to (every later one must name it); null: none. */
  dpsHost: string | null;
  /** When a supervisor declared it lost (`bundle lost`), and who; null: not declared lost. */
  lostAt: string | null;
  lostBy: string | null;
  /** What the latest receipt applied says DPS answered, per outcome. */
  receipt: { synced: number; failed: number; conflict: number; pending: number } | null;
}

/** The exported bundles, newest first. */
export function listBundles(db: Database.Database): BundleListing[] {
  const rows = db
    .prepare(
      `SELECT b.id, b.created_at AS createdAt, b.file, b.enrollments, b.retirements,
         b.received_at AS receivedAt, b.lost_at AS lostAt, b.lost_by AS lostBy,
         b.receipt, b.dps_host AS dpsHost,
         (SELECT count(*) FROM bundle_enrollments m JOIN enrollments e ON e.id = m.enrollment_id
          WHERE m.bundle_id = b.id AND e.status = 'pending' AND m.answer_applied IS NULL)
           AS stillPending, b.written_at AS writtenAt
       FROM bundles b ORDER BY b.created_at DESC, b.rowid DESC`,
    )
    .all() as (Omit<BundleListing, 'receipt'> & { receipt: string | null })[];
  return rows.map((row) => ({
    ...row,
    receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as BundleListing['receipt']),
  }));
}

/**
 * A row (`e`) another bundle carries, its file written and not declared lost, that no receipt has
 * answered finally yet. A row a receipt answered, or a supervisor requeued, is free to go again.
 */
const STILL_CARRIED = `EXISTS (SELECT 1 FROM bundle_enrollments b JOIN bundles w ON w.id = b.bundle_id
  WHERE b.enrollment_id = e.id AND b.answer_applied IS NULL AND ${bundleMayAnswer('w')})`;

/** The condition on a pending row (`e`) that an export may carry it. */
export function exportableWhere(includeCarried: boolean): string {
  return includeCarried ? '' : `AND NOT ${STILL_CARRIED}`;
}

/** How many pending rows an export would carry (all bundles' worth). */
export function exportableCount(db: Database.Database, includeCarried: boolean): number {
  return db
    .prepare(
      `SELECT count(*) FROM enrollments e WHERE e.status = 'pending' ${exportableWhere(includeCarried)}`,
    )
    .pluck()
    .get() as number;
}

/**
 * Pending rows that some bundle carries with no final answer back yet, each counted once
 * (`--include-carried` puts a row in more than one bundle).
 */
export function carriedAwaitingReceipt(db: Database.Database): number {
  return db
    .prepare(`SELECT count(*) FROM enrollments e WHERE e.status = 'pending' AND ${STILL_CARRIED}`)
    .pluck()
    .get() as number;
}

/** How many bundles this station exported. */
export function bundleCount(db: Database.Database): number {
  return db.prepare('SELECT count(*) FROM bundles').pluck().get() as number;
}
