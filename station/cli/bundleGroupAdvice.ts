/**
 * What `bundle sync` tells the supervisor about symmetric-key group members, whose fix is never
 * "run this sync again": a group DPS does not hold or that will not take them is fixed in DPS and
 * the members requeued on the line, and a bundle that carries no fingerprint of their group's key
 * must be exported again there. The supervisor stands at the machine that reaches DPS, so the
 * line's own commands are named without a data folder (this machine's is not the line's).
 */
import type { ReceiptPayload } from '../bundle/bundlePayload.js';

/** Group members a receipt answers `failed` because of their group in DPS, by code. */
export interface GroupFailures {
  /** DPS holds no enrollment group of the name their profile gives. */
  SYNC_GROUP_MISSING: number;
  /** DPS's group is disabled, of another attestation, or holds neither of the line's keys. */
  SYNC_GROUP_MISMATCH: number;
}

/** The receipt's group members that failed on their group, counted by code. */
export function groupFailuresOf(receipt: ReceiptPayload): GroupFailures {
  const counts: GroupFailures = { SYNC_GROUP_MISSING: 0, SYNC_GROUP_MISMATCH: 0 };
  for (const result of receipt.results) {
    if (result.outcome !== 'failed') continue;
    if (result.code === 'SYNC_GROUP_MISSING' || result.code === 'SYNC_GROUP_MISMATCH') {
      counts[result.code]++;
    }
  }
  return counts;
}

/**
 * The steps for group members that failed on their group. They are `failed` in the receipt, so
 * no later run of this bundle sends them: the group is fixed in DPS, then the line requeues them
 * once it has received this receipt (before, they are not failed there yet) and exports them.
 */
export function groupFailureLines(failures: GroupFailures | undefined): string[] {
  const missing = failures?.SYNC_GROUP_MISSING ?? 0;
  const mismatch = failures?.SYNC_GROUP_MISMATCH ?? 0;
  if (missing + mismatch === 0) return [];
  const why = [
    ...(missing > 0
      ? [`${missing} [SYNC_GROUP_MISSING]: DPS holds no enrollment group of the name given`]
      : []),
    ...(mismatch > 0
      ? [
          `${mismatch} [SYNC_GROUP_MISMATCH]: their enrollment group in DPS will not take them (disabled, another attestation, or neither of its keys is the line's group key)`,
        ]
      : []),
  ];
  return [
    `${missing + mismatch} group member(s) failed on their enrollment group in DPS: ${why.join('; ')}. No run of this bundle sends them again; for them:`,
    "  1. Fix the group in DPS: create it, or enable it, with symmetric-key attestation and the line's group key (the one `station keys set-group` stored on the line) as its primary or secondary key. `station queue list --status failed` on the line names the group.",
    '  2. On the line, once this receipt is received (`station bundle receive`): `station queue requeue --status failed --by NAME`, then `station bundle export`, and sync that bundle here.',
  ];
}

/**
 * The fix for members left pending for SYNC_GROUP_KEY_UNAVAILABLE: the bundle carries no
 * fingerprint of their group's key (an earlier version exported it, or the key did not open on
 * the line at export), and no run of it can bring one.
 */
export const EXPORT_AGAIN_STEP =
  "On the line, once this receipt is received, export again: `station bundle export` (receiving lets these members go into the next bundle). This bundle carries no fingerprint of its group members' group key (an earlier version exported it, or the key did not open there: store it first with `station keys set-group --group ID`), so no run of it here can confirm them; a bundle this version exports carries it.";
