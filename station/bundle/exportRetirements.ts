import type Database from 'better-sqlite3';
import { earlierIndividualOf } from '../store/retirementRules.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import type { BundleRetirement } from './bundlePayload.js';
import type { Row } from './carriedRows.js';

/** How `bundle export` came by the opener of the station's sealed symmetric keys. */
export interface SecretsAsked {
  opener?: OpenSecret;
  /** Why no opener: the CA passphrase was refused (wrong, or none given) when only retirements needed it. */
  refused?: unknown;
}

const symmetric = (row: Row) => row.attestation === 'symmetric-key-individual';
const MEMBER = 'symmetric-key-group';

/** The registration IDs (lower case) of the group members among `live`. */
function memberIds(live: readonly Row[]): Set<string> {
  return new Set(
    live.filter((r) => r.attestation === MEMBER).map((r) => r.registrationId.toLowerCase()),
  );
}

/** Whether `row` is a group member's earlier row: it goes only with the member's deletions. */
const ofMember = (members: Set<string>) => (row: Row) =>
  members.has(row.registrationId.toLowerCase());

/**
 * Asks for the CA passphrase when a carried row has a symmetric key. A key that only a
 * retirement needs (an earlier enrollment to disable or delete in DPS, or a group member's
 * earlier row, which goes with that deletion) is no reason to hold back the pending enrollments:
 * a refusal then leaves those out (the retirements stay due) and is returned, for the export to
 * say so or, with nothing else to carry, to throw.
 */
export async function askSecrets(
  ask: () => Promise<OpenSecret>,
  rows: { live: readonly Row[]; history: readonly Row[] },
  retiring: readonly Row[],
): Promise<SecretsAsked> {
  const members = ofMember(memberIds(rows.live));
  const needed = [...rows.live, ...rows.history.filter((row) => !members(row))];
  if (needed.some(symmetric)) return { opener: await ask() };
  const optional = [...retiring, ...rows.history.filter(members)];
  if (!optional.some(symmetric)) return {};
  try {
    return { opener: await ask() };
  } catch (refused) {
    return { refused };
  }
}

/**
 * Takes out of the bundle the group members whose registration ID has an earlier individual
 * enrollment due for deletion that the bundle does not carry (its key did not open here, or more
 * were due than a bundle takes): the syncing machine would confirm such a member without deleting
 * what keeps its device out of DPS, and the receipt would bring it back pending, bundle after
 * bundle. They stay pending here, with their earlier rows, for a bundle that carries the deletion.
 * Without the keys (`opened` false), a member's earlier rows with a symmetric key stay out too:
 * none of them is due (else the member would be out), so the syncing machine does not need them.
 */
export function withoutBlockedMembers(
  db: Database.Database,
  rows: { live: Row[]; history: Row[] },
  retirements: readonly BundleRetirement[],
  opened: boolean,
): { live: Row[]; history: Row[]; blocked: number } {
  const carried = new Set(retirements.map((r) => r.id));
  const blocking = db
    .prepare(
      `SELECT id FROM enrollments e WHERE ${earlierIndividualOf('e')} AND retirement = 'due'`,
    )
    .pluck();
  const held = new Set<string>();
  for (const row of rows.live) {
    if (row.attestation !== MEMBER) continue;
    const due = blocking.all(row.registrationId) as number[];
    if (due.some((id) => !carried.has(id))) held.add(row.registrationId.toLowerCase());
  }
  const members = ofMember(memberIds(rows.live));
  const kept = (row: Row) => !held.has(row.registrationId.toLowerCase());
  const keyed = (row: Row) => opened || !(symmetric(row) && members(row));
  return {
    live: rows.live.filter(kept),
    history: rows.history.filter((row) => kept(row) && keyed(row)),
    blocked: held.size,
  };
}
