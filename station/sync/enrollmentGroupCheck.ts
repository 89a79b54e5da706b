import { DpsError } from '../../dps/dpsErrors.js';
import type { AttestationMechanism, DpsServiceApi } from '../../dps/service/serviceTypes.js';
import {
  groupKeyFingerprint,
  shortFingerprint,
  type GroupKeyFingerprints,
} from './groupKeyFingerprint.js';
import type { Settlement } from './outboxSyncStore.js';
import { SyncError } from './syncErrors.js';

/**
 * A symmetric-key group member needs no enrollment of its own: it registers through its
 * enrollment group, with a key derived from the group's. So it is synced only once DPS has shown
 * that group to exist, enabled, with symmetric-key attestation, and the group key its device key
 * was derived from as its primary or secondary key. Nothing is ever written to the group: the
 * station only reads.
 *
 * Which group key that is, each row says itself (`groupKeyFingerprint` in its body, recorded at
 * provisioning): a supervisor may have replaced the station's key since (`keys set-group
 * --replace`), and a device keeps the key it was given.
 */
export type GroupVerdict =
  | { kind: 'confirmed'; key: 'primary' | 'secondary'; basis: KeyBasis }
  | { kind: 'missing' }
  | { kind: 'mismatch'; differences: string[] };

/**
 * What a member was compared by: `device`, the fingerprint its row recorded at provisioning;
 * `station`, the key stored on the station now (rows provisioned before fingerprints were
 * recorded).
 */
export type KeyBasis = 'device' | 'station';

/** What DPS showed of a group, before any member's key is compared with it. */
type GroupLook =
  | { kind: 'missing' }
  | { kind: 'unusable'; differences: string[] }
  | {
      kind: 'symmetric';
      differences: string[];
      keys: Partial<Record<'primary' | 'secondary', string>>;
    };

/**
 * How long a look at a group stands before DPS is asked again: one look serves a whole pass
 * (thousands of members cost two DPS operations), and a group a supervisor fixes is seen within
 * a minute, at once after a "sync now".
 */
export const GROUP_VERDICT_MS = 60_000;

type Ask = <T>(call: () => Promise<T>) => Promise<T>;

/** What the checks need: DPS (rate-limited by the caller), the station's keys, its clock. */
export interface GroupCheckOptions {
  dps: DpsServiceApi;
  /**
   * The station's group keys, for members whose rows recorded no fingerprint; without them such
   * members wait (SYNC_GROUP_KEY_UNAVAILABLE).
   */
  keys: GroupKeyFingerprints | undefined;
  now: () => number;
}

/** The looks of one sync worker at DPS's groups, shared by its batches, each kept GROUP_VERDICT_MS. */
export class EnrollmentGroupChecks {
  private readonly looks = new Map<string, { at: number; look: Promise<GroupLook> }>();

  constructor(private readonly options: GroupCheckOptions) {}

  /** Forgets every look: a supervisor asking to sync has likely just fixed the group. */
  forget(): void {
    this.looks.clear();
  }

  /**
   * The verdict on members of group `id` whose device key derives from the group key with
   * fingerprint `recorded` (their row's), reading DPS through `ask` unless a fresh look is kept
   * (batches in flight at once share one look). Without `recorded` (rows of an earlier version)
   * the key stored on this station now stands in: the best guess there is, and what was
   * compared before. Throws SyncError SYNC_GROUP_KEY_UNAVAILABLE, and DpsError when DPS refuses
   * or cannot be reached; neither is kept.
   */
  async verdict(id: string, ask: Ask, recorded?: string): Promise<GroupVerdict> {
    const group = id.toLowerCase();
    // Before DPS is asked: without the key to compare no answer could settle a member.
    const ours = recorded ?? (await this.stationKey(group));
    const look = await this.look(group, ask);
    if (look.kind === 'missing') return look;
    if (look.kind === 'unusable') return { kind: 'mismatch', differences: look.differences };
    const basis: KeyBasis = recorded === undefined ? 'station' : 'device';
    const differences = [...look.differences];
    const matched = (['primary', 'secondary'] as const).find((k) => look.keys[k] === ours);
    if (matched === undefined) differences.push(keyDifference(ours, look.keys, basis));
    return differences.length > 0
      ? { kind: 'mismatch', differences }
      : { kind: 'confirmed', key: matched!, basis };
  }

  private async stationKey(id: string): Promise<string> {
    const { keys } = this.options;
    if (keys === undefined) {
      throw new SyncError(
        'SYNC_GROUP_KEY_UNAVAILABLE',
        `this sync was started without the station's group keys, so group ${id} cannot be compared`,
      );
    }
    return keys(id);
  }

  private look(id: string, ask: Ask): Promise<GroupLook> {
    const now = this.options.now();
    const kept = this.looks.get(id);
    if (kept && now - kept.at < GROUP_VERDICT_MS) return kept.look;
    const look = readGroup(id, this.options.dps, ask);
    this.looks.set(id, { at: now, look });
    look.catch(() => {
      if (this.looks.get(id)?.look === look) this.looks.delete(id);
    });
    return look;
  }
}

async function readGroup(id: string, dps: DpsServiceApi, ask: Ask): Promise<GroupLook> {
  const group = await ask(() => dps.getEnrollmentGroup(id));
  if (group === undefined) return { kind: 'missing' };
  const differences: string[] = [];
  if (group.provisioningStatus === 'disabled') differences.push('it is disabled');
  const type = group.attestation?.type;
  if (type !== 'symmetricKey') {
    differences.push(`it uses ${type ?? 'no'} attestation, not symmetric keys`);
    return { kind: 'unusable', differences };
  }
  // DPS withholds the keys on GET (dps-protocol.md §1.7); the attestation read returns them.
  const withKeys = group.attestation.symmetricKey?.primaryKey
    ? group.attestation
    : await readAttestation(id, dps, ask);
  if (withKeys === 'deleted') return { kind: 'missing' };
  return { kind: 'symmetric', differences, keys: keyFingerprints(withKeys) };
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
  basis: KeyBasis,
): string {
  const short = (fingerprint: string | undefined) =>
    fingerprint === undefined ? 'none shown' : shortFingerprint(fingerprint);
  const dps = `DPS's primary ${short(theirs.primary)}, secondary ${short(theirs.secondary)}`;
  if (basis === 'station') {
    return `neither its primary nor its secondary key is the group key stored on this station (key fingerprints: this station's ${short(ours)}, ${dps})`;
  }
  return `the device was given a key derived from another group key than DPS holds (key fingerprints: the device's group key ${short(ours)}, ${dps}): provision the device again, or put that group key back in DPS as the group's secondary key`;
}

/** What a verdict makes of a member of group `id`. */
export function memberSettlement(verdict: GroupVerdict, id: string): Settlement {
  switch (verdict.kind) {
    case 'confirmed':
      return {
        kind: 'synced',
        how: 'confirmed-by-group',
        note: `confirmed by enrollment group ${id} in DPS (enabled, symmetric keys, ${verdict.basis === 'device' ? "the group key the device's key was derived from" : "the station's group key"} as its ${verdict.key} key)`,
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

/**
 * The fingerprint of the group key a member's device key was derived from, as its stored body
 * recorded it at provisioning (symmetricKey.ts): `none` for rows of an earlier version, which
 * recorded none; `invalid` for a body whose field is not a fingerprint (never guessed past: a
 * guess could mark a device synced that will not register).
 */
export function memberGroupKeyFingerprint(
  body: string,
): { kind: 'recorded'; fingerprint: string } | { kind: 'none' } | { kind: 'invalid' } {
  let recorded: unknown;
  try {
    recorded = (JSON.parse(body) as { groupKeyFingerprint?: unknown } | null)?.groupKeyFingerprint;
  } catch {
    return { kind: 'invalid' };
  }
  if (recorded === undefined) return { kind: 'none' };
  return typeof recorded === 'string' && /^[0-9a-f]{64}$/.test(recorded)
    ? { kind: 'recorded', fingerprint: recorded }
    : { kind: 'invalid' };
}
