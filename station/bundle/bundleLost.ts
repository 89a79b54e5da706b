import type Database from 'better-sqlite3';
import { AuditLog } from '../store/auditLog.js';
import { carriedByBundleOut } from '../store/bundleRules.js';
import { BundleError } from './bundleErrors.js';
import { exportableCount } from './bundleList.js';

/** What declaring a bundle lost did. */
export interface LostSummary {
  bundleId: string;
  file: string;
  /** Set when the bundle was declared lost before: nothing changed now. */
  earlier?: { at: string; by: string };
  /** Pending enrollments that the next export carries now (no other bundle carries them). */
  freed: number;
  /** Retirements due that no longer wait for its receipt to tell whether DPS got the row. */
  retirementsFreed: number;
}

/**
 * Due retirements of rows that a bundle still out carries: the retirement cannot settle on "DPS
 * holds nothing", as that bundle's sync may yet create the row (supersededRetirement.ts).
 */
const RETIREMENTS_WAITING = `SELECT count(*) FROM enrollments e WHERE e.retirement = 'due'
  AND ${carriedByBundleOut('e.id')}`;

/**
 * Declares bundle `bundleId` lost (`station bundle lost`): its stick went missing, or was wiped,
 * before the bundle was synced. The bundle then holds nothing back: what it carried and no
 * receipt answered goes in the next export, and a retirement stops waiting for it. One
 * transaction, with its `outbox.bundle-lost` audit event in the name of supervisor `by`. A bundle declared
 * lost before is left as it was (`earlier` says when and by whom).
 *
 * Throws BUNDLE_ID_UNKNOWN for a bundle this station did not export, BUNDLE_NOT_WRITTEN for one
 * whose export stopped before its file was written (it carries nothing).
 */
export function declareBundleLost(
  db: Database.Database,
  bundleId: string,
  by: string,
  now: Date = new Date(),
): LostSummary {
  const waitingRetirements = db.prepare(RETIREMENTS_WAITING).pluck();
  return db
    .transaction((): LostSummary => {
      const bundle = db
        .prepare(
          `SELECT file, written_at AS writtenAt, lost_at AS lostAt, lost_by AS lostBy
           FROM bundles WHERE id = ?`,
        )
        .get(bundleId) as
        | { file: string; writtenAt: string | null; lostAt: string | null; lostBy: string | null }
        | undefined;
      if (bundle === undefined) throw new BundleError('BUNDLE_ID_UNKNOWN', bundleId);
      if (bundle.writtenAt === null) throw new BundleError('BUNDLE_NOT_WRITTEN', bundleId);
      const { file } = bundle;
      if (bundle.lostAt !== null) {
        return {
          bundleId,
          file,
          earlier: { at: bundle.lostAt, by: bundle.lostBy ?? '' },
          freed: 0,
          retirementsFreed: 0,
        };
      }
      const exportable = exportableCount(db, false);
      const waiting = waitingRetirements.get() as number;
      db.prepare(`UPDATE bundles SET lost_at = ?, lost_by = ? WHERE id = ?`).run(
        now.toISOString(),
        by,
        bundleId,
      );
      const freed = exportableCount(db, false) - exportable;
      const retirementsFreed = waiting - (waitingRetirements.get() as number);
      new AuditLog(db).append({
        at: now,
        actor: `supervisor:${by}`,
        kind: 'outbox.bundle-lost',
        subject: bundleId,
        detail: { file, freed, retirementsFreed },
      });
      return { bundleId, file, freed, retirementsFreed };
    })
    .immediate();
}
