/**
 * When an outbox bundle still stands for the rows it carried, as SQL conditions on a row of
 * `bundles` (migrations 011, 018, 020). A bundle whose file was never written carries nothing;
 * one a supervisor declared lost (`station bundle lost`) will not be synced, so nothing waits for
 * it any more. Its receipt, should it come back all the same, is still applied.
 */

/** Bundle `b` may still bring answers: written, and not declared lost. */
export function bundleMayAnswer(b: string): string {
  return `${b}.written_at IS NOT NULL AND ${b}.lost_at IS NULL`;
}

/**
 * Bundle `b` is out: it may still bring answers and no receipt of it came back yet, so the
 * machine that syncs it may yet create what it carries in DPS.
 */
export function bundleOut(b: string): string {
  return `${bundleMayAnswer(b)} AND ${b}.received_at IS NULL`;
}

/**
 * Outbox row `id` (an SQL expression) is carried by a bundle still out that has not answered it:
 * DPS not holding it yet proves nothing, as that bundle's sync may still create it. With
 * `exceptBundle`, a bundle bound to the next `?` does not count (the one whose receipt is being
 * applied, answered now).
 */
export function carriedByBundleOut(id: string, options: { exceptBundle?: boolean } = {}): string {
  const except = options.exceptBundle ? 'AND b.id != ?' : '';
  return `EXISTS (SELECT 1 FROM bundle_enrollments be JOIN bundles b ON b.id = be.bundle_id
    WHERE be.enrollment_id = ${id} ${except} AND be.answer_applied IS NULL AND ${bundleOut('b')})`;
}

/**
 * Outbox row `id` (an SQL expression) was reported in DPS (answered synced) by a receipt of
 * another bundle that came back after the bundle bound to the second `?` was written; the first
 * `?` binds that bundle too. That bundle's sync may have read DPS before the other bundle's wrote
 * the row: its "not in DPS" may be stale. Which sync ran first, at the syncing machine, the line
 * cannot tell; the row is read from DPS again, by the next bundle, which costs one read at most.
 */
export function reportedInDpsAfterWritten(id: string): string {
  return `EXISTS (SELECT 1 FROM bundle_enrollments be JOIN bundles a ON a.id = be.bundle_id
    WHERE be.enrollment_id = ${id} AND a.id != ? AND be.answer_applied = 'synced'
      AND a.received_at >= (SELECT w.written_at FROM bundles w WHERE w.id = ?))`;
}
