import { DpsError } from '../../dps/dpsErrors.js';
import type { AttestationMechanism, DpsServiceApi } from '../../dps/service/serviceTypes.js';
import { groupKeyFingerprint, type GroupKeyFingerprints } from './groupKeyFingerprint.js';
import type { Settlement } from './outboxSyncStore.js';
import { SyncError } from './syncErrors.js';

/**
 * A symmetric-key group member needs no enrollment of its own: it registers through its
 * enrollment group, with a key derived from the group's. So it is synced only once DPS has shown
 * that group to exist, enabled, with symmetric-key attestation, and the station's group key as
 * its primary or secondary key. Nothing is ever written to the group: the station only reads.
 */
export type GroupVerdict =
  | { kind: 'confirmed'; key: 'primary' | 'secondary' }
  | { kind: 'missing' }
  | { kind: 'mismatch'; differences: string[] };

/**
 * How long a verdict stands before DPS is asked again: one look serves a whole pass (thousands
 * of members cost two DPS operations), and a group a supervisor fixes is seen within a minute,
 * at once after a "sync now".
 */
export const GROUP_VERDICT_MS = 60_000;

type Ask = <T>(call: () => Promise<T>) => Promise<T>;

/** What the checks need: DPS (rate-limited by the caller), the station's keys, its clock. */
export interface GroupCheckOptions {
  dps: DpsServiceApi;
  /** The station's group keys; without them every member waits (SYNC_GROUP_KEY_UNAVAILABLE). */
  keys: GroupKeyFingerprints | undefined;
  now: () => number;
}

/** The verdicts of one sync worker, shared by its batches, each kept GROUP_VERDICT_MS. */
export class EnrollmentGroupChecks {
  private readonly verdicts = new Map<string, { at: number; verdict: Promise<GroupVerdict> }>();

  constructor(private readonly options: GroupCheckOptions) {}

  /** Forgets every verdict: a supervisor asking to sync has likely just fixed the group. */
  forget(): void {
    this.verdicts.clear();
  }

  /**
   * The verdict on group `id`, reading DPS through `ask` unless a fresh one is kept (batches in
   * flight at once share one look). Throws SyncError SYNC_GROUP_KEY_UNAVAILABLE, and DpsError
   * when DPS refuses or cannot be reached; neither is kept.
   */
  verdict(id: string, ask: Ask): Promise<GroupVerdict> {
    const key = id.toLowerCase();
    const now = this.options.now();
    const kept = this.verdicts.get(key);
    if (kept && now - kept.at < GROUP_VERDICT_MS) return kept.verdict;
    const verdict = this.check(key, ask);
    this.verdicts.set(key, { at: now, verdict });
    verdict.catch(() => {
      if (this.verdicts.get(key)?.verdict === verdict) this.verdicts.delete(key);
    });
    return verdict;
  }

  private async check(id: string, ask: Ask): Promise<GroupVerdict> {
    const { dps, keys } = this.options;
    if (keys === undefined) {
      throw new SyncError(
        'SYNC_GROUP_KEY_UNAVAILABLE',
        `this sync was started without the station's group keys, so group ${id} cannot be compared`,
      );
    }
    // Before DPS is asked: without the station's key no answer could settle a member.
    const ours = await keys(id);
    const group = await ask(() => dps.getEnrollmentGroup(id));
    if (group === undefined) return { kind: 'missing' };
    const differences: string[] = [];
    if (group.provisioningStatus === 'disabled') differences.push('it is disabled');
    const type = group.attestation?.type;
    if (type !== 'symmetricKey') {
      differences.push(`it uses ${type ?? 'no'} attestation, not symmetric keys`);
      return { kind: 'mismatch', differences };
    }
    // DPS withholds the keys on GET (dps-protocol.md §1.7); the attestation read returns them.
    const withKeys = group.attestation.symmetricKey?.primaryKey
      ? group.attestation
      : await readAttestation(id, dps, ask);
    if (withKeys === 'deleted') return { kind: 'missing' };
    const theirs = keyFingerprints(withKeys);
    const matched = (['primary', 'secondary'] as const).find((k) => theirs[k] === ours);
    if (matched === undefined) differences.push(keyDifference(ours, theirs));
    return differences.length > 0
      ? { kind: 'mismatch', differences }
      : { kind: 'confirmed', key: matched! };
  }
}

async function readAttestation(
  id: string,
  dps: DpsServiceApi,
  ask: Ask,
): Promise<AttestationMechanism | 'deleted'> {
  try {
    return await ask(() => dps.getEnrollmentGroupAttestation(id));
  } catch (err) {
    // Deleted between the two reads: there is no group now.
    if (err instanceof DpsError && err.code === 'DPS_NOT_FOUND') return 'deleted';
    throw err;
  }
}

/** DPS's keys as fingerprints; the key bytes are zeroed once hashed. */
function keyFingerprints(
  attestation: AttestationMechanism,
): Partial<Record<'primary' | 'secondary', string>> {
  const out: Partial<Record<'primary' | 'secondary', string>> = {};
  for (const which of ['primary', 'secondary'] as const) {
    const text = attestation.symmetricKey?.[`${which}Key`];
    if (typeof text !== 'string' || text === '') continue;
    const bytes = Buffer.from(text, 'base64');
    try {
      out[which] = groupKeyFingerprint(bytes);
    } finally {
      bytes.fill(0);
    }
  }
  return out;
}

/** What differs in the keys, by fingerprint prefixes (as `keys set-group` audits), never a key. */
function keyDifference(
  ours: string,
  theirs: Partial<Record<'primary' | 'secondary', string>>,
): string {
  const short = (fingerprint: string | undefined) =>
    fingerprint === undefined ? 'none shown' : `${fingerprint.slice(0, 12)}…`;
  return `neither its primary nor its secondary key is the group key stored on this station (key fingerprints: this station's ${short(ours)}, DPS's primary ${short(theirs.primary)}, secondary ${short(theirs.secondary)})`;
}

/** What a verdict makes of a member of group `id`. */
export function memberSettlement(verdict: GroupVerdict, id: string): Settlement {
  switch (verdict.kind) {
    case 'confirmed':
      return {
        kind: 'synced',
        how: 'confirmed-by-group',
        note: `confirmed by enrollment group ${id} in DPS (enabled, symmetric keys, the station's group key as its ${verdict.key} key)`,
      };
    case 'missing':
      return {
        kind: 'failed',
        code: 'SYNC_GROUP_MISSING',
        detail: `DPS holds no enrollment group ${id}: create enrollment group ${id} in DPS with symmetric-key attestation and the group key stored on this station, then requeue`,
      };
    case 'mismatch':
      return {
        kind: 'failed',
        code: 'SYNC_GROUP_MISMATCH',
        detail: `enrollment group ${id} in DPS will not take this device: ${verdict.differences.join('; ')}`,
      };
  }
}

/** The enrollment group a member's stored body names, or undefined when it names none. */
export function memberGroupId(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { enrollmentGroupId?: unknown } | null)?.enrollmentGroupId;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
