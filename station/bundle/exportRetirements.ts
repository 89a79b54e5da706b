import type Database from 'better-sqlite3';
import { earlierIndividualIds } from '../store/retirementRules.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import type { BundleRetirement } from './bundlePayload.js';
import type { Row } from './carriedRows.js';

/** How `bundle export` came by the opener of the station's sealed symmetric keys. */
export interface SecretsAsked {
  opener?: OpenSecret;
  /** Why no opener: the CA passphrase was refused (wrong, or none given) when only retirements needed it. */
  refused?: unknown;
}

/** The codes of a CA passphrase refused: mistyped (the CA said so), or none given at all. */
const PASSPHRASE_REFUSALS: ReadonlySet<string> = new Set([
  'CUSTODY_WRONG_PASSPHRASE',
  'PASSPHRASE_MISSING',
]);

const symmetric = (row: Row) => row.attestation === 'symmetric-key-individual';
const MEMBER: Row['attestation'] = 'symmetric-key-group';

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
  } catch (err) {
    // A wrong or missing passphrase is the supervisor's to give another time; a CA that cannot
    // be read, or a failing disk, is no refusal: the export stops on it.
    if (!PASSPHRASE_REFUSALS.has((err as { code?: unknown }).code as string)) throw err;
    return { refused: err };
  }
}

/**
 * Takes out of the bundle the group members whose registration ID has an earlier individual
 * enrollment that the bundle does not carry as a retirement (its key did not open here, or more
 * were due than a bundle takes): one due for deletion, or one found another party's, which the
 * syncing machine must read again. Without it, that machine would confirm such a member while
 * an individual enrollment keeps its device out of DPS, and the receipt would bring it back
 * pending (or, for another party's, synced), bundle after bundle. They stay pending here, with
 * their earlier rows, for a bundle that carries the retirement. Without the keys (`opened`
 * false), a member's other earlier rows with a symmetric key stay out too: the syncing machine
 * needs them only for the retirements.
 */
export function withoutBlockedMembers(
  db: Database.Database,
  rows: { live: Row[]; history: Row[] },
  retirements: readonly BundleRetirement[],
  opened: boolean,
): { live: Row[]; history: Row[]; blocked: number } {
  const carried = new Set(retirements.map((r) => r.id));
  const blocking = db.prepare(earlierIndividualIds(['due', 'not-ours'])).pluck();
  const held = new Set<string>();
  for (const row of rows.live) {
    if (row.attestation !== MEMBER) continue;
    const earlier = blocking.all(row.registrationId) as number[];
    if (earlier.some((id) => !carried.has(id))) held.add(row.registrationId.toLowerCase());
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
