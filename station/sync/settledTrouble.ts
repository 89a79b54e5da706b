import type { OutboxRow } from './enrollmentRequest.js';
import type { Settlement } from './outboxSyncStore.js';
import type { SyncErrorCode } from './syncErrors.js';

/**
 * The rows of one batch that settled where only a supervisor moves them: `conflict` (DPS holds
 * the registration ID with other credentials) or `failed` (DPS refused the enrollment, or the
 * station cannot send it). They wait in the outbox for good, unlike a retry, so the line's log
 * must say so when it happens, not only the counts.
 */
export interface SettledTrouble {
  /** Rows the batch settled, trouble or not. */
  settled: number;
  /** Registration IDs of the rows that ended `conflict`, in batch order. */
  conflicts: string[];
  /** The rows that ended `failed`, with the code each keeps. */
  failed: { registrationId: string; code: SyncErrorCode }[];
  /** When the station recorded them (ISO 8601). */
  at: string;
}

/** What of a recorded batch needs a supervisor; undefined when nothing does. */
export function settledTrouble(
  settlements: readonly [OutboxRow, Settlement][],
  at: number,
): SettledTrouble | undefined {
  const conflicts: string[] = [];
  const failed: SettledTrouble['failed'] = [];
  for (const [row, s] of settlements) {
    if (s.kind === 'conflict') conflicts.push(row.registrationId);
    else if (s.kind === 'failed') failed.push({ registrationId: row.registrationId, code: s.code });
  }
  if (conflicts.length === 0 && failed.length === 0) return undefined;
  const settled = settlements.filter(([, s]) => s.kind !== 'retry').length;
  return { settled, conflicts, failed, at: new Date(at).toISOString() };
}
