import type Database from 'better-sqlite3';
import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import type { CodedError } from '../line/lineTypes.js';
import { DEFAULT_BACKOFF } from '../sync/backoff.js';
import type { OpenSecret, OutboxRow } from '../sync/enrollmentRequest.js';
import { judgeFailure } from '../sync/failurePolicy.js';
import { retireSuperseded, wroteToDps } from '../sync/supersededRetirement.js';
import type { BundlePayload, BundleRetirement, ReceiptRetirement } from './bundlePayload.js';

/**
 * The office machine's half of retiring superseded enrollments across an air gap: each
 * retirement a bundle carries is tried in DPS with the online worker's own per-row logic
 * (read, compare credentials, PUT disabled with If-Match). Nothing is kept on this machine: a
 * retirement is idempotent in DPS (a second run finds it `already disabled`), so a run that
 * stopped early is simply run again, and the line settles only a row still due. The calls go
 * one at a time, without the worker's limiter (stopped by then): a bundle carries at most
 * MAX_BUNDLE_RETIREMENTS, and a 429 ends the run like any worker-level error.
 */

/** What the carried retirements came to, and why they stopped early if they did. */
export interface RetirementRun {
  /** The settled ones, for the receipt; one left due is not in it. */
  retirements: ReceiptRetirement[];
  /** Carried but not settled (DPS out of reach, changed meanwhile, refused for this row). */
  due: number;
  /** The worker-level error that ended the run early (no key, no token in it). */
  failure?: CodedError;
}

/** How the carried retirements ended, per outcome, for `bundle sync`'s summary. */
export interface RetirementCounts {
  disabled: number;
  /** Deleted under a group member's ID (counted apart from `absent`, which they are now). */
  deleted: number;
  absent: number;
  notOurs: number;
  /** Left due on the line: they go in its next bundle. */
  due: number;
}

/**
 * Retires the superseded enrollments `payload` carries that `which` picks (the deletions under a
 * group member's ID, which go before the members, or the rest, after them), unless the sync was
 * interrupted or another process syncs this bundle (`stopped`); undefined when it carries none
 * (a bundle of an earlier version, or a line with nothing due).
 */
export async function carriedRetirementsIn(
  options: { payload: BundlePayload; dps: DpsServiceApi; signal?: AbortSignal },
  stopped: CodedError | undefined,
  which: 'deletions' | 'the rest',
): Promise<RetirementRun | undefined> {
  const carried = (options.payload.retirements ?? []).filter(
    (r) => (r.heldByGroup === true) === (which === 'deletions'),
  );
  if (carried.length === 0) return undefined;
  if (options.signal?.aborted || stopped?.code === 'SYNC_WORKER_ELSEWHERE') {
    return { retirements: [], due: carried.length };
  }
  return retireCarried(carried, options.dps, options.signal);
}

/** Both runs of a sync as one, for the receipt and the summary. */
export function bothRuns(
  first: RetirementRun | undefined,
  second: RetirementRun | undefined,
): RetirementRun | undefined {
  if (first === undefined || second === undefined) return first ?? second;
  const failure = first.failure ?? second.failure;
  return {
    retirements: [...first.retirements, ...second.retirements],
    due: first.due + second.due,
    ...(failure !== undefined && { failure }),
  };
}

/**
 * Records in the work store how the deletions under group members' IDs ended, on the earlier
 * rows the bundle carried as those members' history, as the line records them: a row still
 * `due` makes its member wait, `not-ours` makes it a conflict (batchSync.ts), so no member is
 * answered synced while an individual enrollment under its ID keeps its device out of DPS.
 */
export function recordDeletions(
  db: Database.Database,
  carried: BundleRetirement[],
  run: RetirementRun | undefined,
  now: Date,
): void {
  const mark = db.prepare(`UPDATE enrollments SET retirement = ?, retired_at = ?
    WHERE id = ? AND status = 'superseded'`);
  db.transaction(() => {
    for (const entry of carried) {
      if (entry.heldByGroup !== true) continue;
      const outcome = run?.retirements.find((r) => r.enrollmentId === entry.id)?.outcome;
      if (outcome === 'not-ours') mark.run('not-ours', now.toISOString(), entry.id);
      else if (outcome === undefined) mark.run('due', null, entry.id);
      else mark.run(null, null, entry.id);
    }
  }).immediate();
}

export function retirementCounts(run: RetirementRun): RetirementCounts {
  const count = (outcome: string) => run.retirements.filter((r) => r.outcome === outcome).length;
  const deleted = run.retirements.filter((r) => wroteToDps(r) && r.outcome === 'absent').length;
  return {
    ...{ disabled: count('disabled'), deleted, absent: count('absent') - deleted },
    ...{ notOurs: count('not-ours'), due: run.due },
  };
}

/** Retires each carried row in turn; never throws for DPS, stops at a worker-level error. */
export async function retireCarried(
  carried: BundleRetirement[],
  dps: DpsServiceApi,
  signal?: AbortSignal,
): Promise<RetirementRun> {
  const retirements: ReceiptRetirement[] = [];
  for (const entry of carried) {
    if (signal?.aborted) break;
    let retired: Awaited<ReturnType<typeof retireSuperseded>>;
    try {
      retired = await retireSuperseded(outboxRowOf(entry), {
        dps,
        openSecret: carriedKey(entry),
        heldByGroup: entry.heldByGroup === true,
      });
    } catch (err) {
      return { retirements, due: carried.length - retirements.length, failure: failureOf(err) };
    }
    if ('wait' in retired) continue;
    retirements.push({
      enrollmentId: entry.id,
      registrationId: entry.registrationId,
      outcome: retired.outcome,
      detail: textDetail(retired.detail),
    });
  }
  return { retirements, due: carried.length - retirements.length };
}

/** The carried row as the retirement reads a line's outbox row. */
function outboxRowOf(entry: BundleRetirement): OutboxRow {
  return {
    id: entry.id,
    registrationId: entry.registrationId,
    attestation: entry.attestation,
    body: entry.body,
    // Only a marker: carriedKey opens the key the bundle carried, sealed by the bundle's seal.
    sealedSecret: entry.symmetricKey === undefined ? null : 'carried in the bundle',
    attempts: entry.attempts,
    needsReconcile: false,
  };
}

/** Hands the carried key over as fresh bytes, which the retirement zeroes once read. */
function carriedKey(entry: BundleRetirement): OpenSecret {
  return () => Promise.resolve(Buffer.from(entry.symmetricKey ?? '', 'base64'));
}

/** The audit detail as the receipt carries it: its text values only (no key is ever in it). */
function textDetail(detail: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (typeof value === 'string') out[key] = value.slice(0, 1024);
  }
  return out;
}

/** The error as the worker would report it: its SYNC_ code, the operator text, DPS's detail. */
function failureOf(err: unknown): CodedError {
  const verdict = judgeFailure(err, 1, DEFAULT_BACKOFF, Math.random);
  return { code: verdict.rowCode, message: verdict.error.message, detail: verdict.error.detail };
}
