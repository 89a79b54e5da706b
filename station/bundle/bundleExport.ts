import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import type { AuditActor } from '../store/auditLog.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import { memberGroupId, memberGroupKeyFingerprint } from '../sync/enrollmentGroupCheck.js';
import type { GroupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { SyncError } from '../sync/syncErrors.js';
import { earlierMaybeInDps } from '../sync/outboxSyncStore.js';
import { BundleError } from './bundleErrors.js';
import {
  BUNDLE_PAYLOAD_FORMAT,
  BUNDLE_PAYLOAD_VERSION,
  MAX_BUNDLE_ENROLLMENTS,
  bundlePayloadSchema,
  checkPayload,
  type BundlePayload,
} from './bundlePayload.js';
import {
  COLUMNS,
  carried,
  carriedRetirements,
  dueRetirementCount,
  dueRetirementRows,
  type Row,
} from './carriedRows.js';
import { exportableCount, exportableWhere } from './bundleList.js';
import { writeRecorded } from './bundleRecord.js';
import { sealPayload } from './bundleSeal.js';
import { askSecrets, withoutBlockedMembers } from './exportRetirements.js';

/**
 * `bundle export`: the pending enrollments of an air-gapped station, sealed under a bundle
 * passphrase into one file for a machine that reaches DPS (bundleSync.ts there).
 *
 * The rows stay `pending` here: a bundle is a carrier, not a hand-over. They are flagged to be
 * read from DPS before this station ever sends them itself, so a bundle synced elsewhere and a
 * line that comes online later never create an enrollment twice. The receipt that comes back
 * (bundleReceive.ts) settles them.
 */

export interface ExportRequest {
  db: Database.Database;
  /** Where the bundle goes; refused if something is there already. */
  file: string;
  /** Wraps the bundle's data key: a PassphraseKeyWrapper over the bundle passphrase. */
  wrapper: KeyWrapper;
  /**
   * Opens the station's sealed symmetric keys (the CA passphrase). Asked for only when a
   * symmetric-key-individual row is carried, so an X.509 line exports without the CA passphrase.
   */
  caSecrets: () => Promise<OpenSecret>;
  /**
   * The fingerprints of the station's group keys (the CA passphrase), asked for only when a
   * symmetric-key group member is carried: the syncing machine confirms their groups in DPS by
   * them. Without it, such members come back pending (SYNC_GROUP_KEY_UNAVAILABLE).
   */
  groupKeys?: () => Promise<GroupKeyFingerprints>;
  actor: AuditActor;
  dataDir: string;
  /**
   * Carry rows already in a bundle whose receipt has not come back (that bundle is lost). Without
   * it, each bundle carries only rows no other bundle still carries.
   */
  includeCarried?: boolean;
  now?: () => Date;
}

export interface ExportSummary {
  bundleId: string;
  file: string;
  enrollments: number;
  /** Earlier enrollments carried so DPS's copy can be told ours (re-provisioned devices). */
  history: number;
  byAttestation: Record<string, number>;
  /** Pending rows no bundle carries, left for the next one (above MAX_BUNDLE_ENROLLMENTS). */
  left: number;
  /**
   * Enrollments carried to be disabled in DPS: superseded ones under their old registration ID,
   * and `revocations` of them, whose certificate was revoked (migration 022).
   */
  retirements: number;
  revocations: number;
  /** Retirements due that this bundle does not carry (keys that did not open, or beyond its cap). */
  retirementsLeft: number;
  /**
   * Pending group members left out: an earlier individual enrollment under their ID is due for
   * deletion and not carried (exportRetirements.ts).
   */
  membersWaiting: number;
  /** Why the retirements with symmetric keys stay out: the CA passphrase was refused. */
  secretsRefused?: string;
}

/** Seals the oldest pending enrollments into `file` and records the bundle. */
export async function exportBundle(request: ExportRequest): Promise<ExportSummary> {
  const { db } = request;
  const now = (request.now ?? (() => new Date()))();
  const includeCarried = request.includeCarried ?? false;
  const available = refuseNothingToExport(db, includeCarried);
  const rows = db
    .prepare(
      `SELECT ${COLUMNS} FROM enrollments e JOIN devices d ON d.id = e.device_id
       WHERE e.status = 'pending' ${exportableWhere(includeCarried)} ORDER BY e.id LIMIT ?`,
    )
    .all(MAX_BUNDLE_ENROLLMENTS) as Row[];
  const withEarlier = withHistory(db, rows);
  const retiring = dueRetirementRows(db);
  const { opener, refused } = await askSecrets(request.caSecrets, withEarlier, retiring);
  const retirements = await carriedRetirements(retiring, opener);
  const { live, history, blocked } = withoutBlockedMembers(
    db,
    withEarlier,
    retirements,
    opener !== undefined,
  );
  const left = available - withEarlier.live.length;
  // Retirements alone go only when nothing is pending, and some key must have opened.
  // With nothing at all to carry, the refusal is the answer (the supervisor gives it again).
  if (live.length === 0 && retirements.length === 0 && refused !== undefined) throw refused;
  if (live.length === 0 && retirements.length === 0) {
    throw new BundleError(
      'BUNDLE_SECRET_LOCKED',
      `none of the ${retiring.length} enrollment(s) due to be disabled in DPS opened`,
    );
  }
  const bundleId = randomUUID();
  const payload: BundlePayload = checkPayload(
    bundlePayloadSchema,
    {
      format: BUNDLE_PAYLOAD_FORMAT,
      version:
        live.length > 0
          ? BUNDLE_PAYLOAD_VERSION.enrollments
          : BUNDLE_PAYLOAD_VERSION.retirementsOnly,
      bundleId,
      createdAt: now.toISOString(),
      source: { host: hostname(), dataDir: request.dataDir },
      enrollments: await Promise.all(live.map((row) => carried(row, opener))),
      // The CA passphrase refused already: asked again for the group keys, it would stop the
      // export after all. Members that need one come back pending and go in a later bundle.
      ...(await carriedGroupKeys(live, refused === undefined ? request.groupKeys : undefined)),
      history: await Promise.all(
        history.map(async (row) => ({
          ...(await carried(row, opener)),
          supersededBy: row.supersededBy!,
        })),
      ),
      ...(retiring.length > 0 && { retirements }),
    } satisfies BundlePayload,
    'the bundle being written',
  );
  const text = await sealPayload(
    { kind: 'bundle', bundleId, writtenAt: now.toISOString() },
    payload,
    request.wrapper,
  );
  writeRecorded(request, payload, now, text);
  const byAttestation: Record<string, number> = {};
  for (const row of live)
    byAttestation[row.attestation] = (byAttestation[row.attestation] ?? 0) + 1;
  return {
    bundleId,
    file: request.file,
    enrollments: live.length,
    history: history.length,
    byAttestation,
    left,
    retirements: payload.retirements?.length ?? 0,
    revocations: revokedAmong(db, payload.retirements ?? []),
    retirementsLeft: dueRetirementCount(db) - (payload.retirements?.length ?? 0),
    membersWaiting: blocked,
    ...(refused !== undefined && { secretsRefused: describe(refused) }),
  };
}

/** How many of the carried retirements are rows of revoked certificates. */
function revokedAmong(db: Database.Database, carried: readonly { id: number }[]): number {
  const revoked = db
    .prepare(`SELECT 1 FROM revocation_disables WHERE enrollment_id = ? AND state = 'due'`)
    .pluck();
  return carried.filter(({ id }) => revoked.get(id) === 1).length;
}

/** A refusal's code and text, for the export's summary (never a secret: passphrases are not in errors). */
function describe(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(err);
  return typeof code === 'string' ? `${text} [${code}]` : text;
}

/**
 * How many pending rows an export would carry; BUNDLE_NOTHING_PENDING or BUNDLE_ALL_CARRIED
 * (`detail` saying where) when none. With no row pending at all, superseded rows due for
 * retirement go alone (0): with some pending but all carried, the bundle that carries those
 * carries the retirements too, and is the one to sync. The command asks it before any
 * passphrase is typed.
 */
export function refuseNothingToExport(
  db: Database.Database,
  includeCarried: boolean,
  detail?: string,
): number {
  const available = exportableCount(db, includeCarried);
  if (available > 0) return available;
  const pending = includeCarried ? 0 : exportableCount(db, true);
  if (pending === 0 && dueRetirementCount(db) > 0) return 0;
  throw new BundleError(pending === 0 ? 'BUNDLE_NOTHING_PENDING' : 'BUNDLE_ALL_CARRIED', detail);
}

/**
 * The rows to carry, each with its earlier enrollments that DPS may hold: sent before, or
 * carried in an earlier bundle. The syncing machine needs them to replace our own earlier
 * enrollment of a re-provisioned device instead of calling it a conflict.
 */
function withHistory(db: Database.Database, rows: Row[]): { live: Row[]; history: Row[] } {
  const earlier = db.prepare(
    `SELECT ${COLUMNS} FROM enrollments e JOIN devices d ON d.id = e.device_id
     WHERE ${earlierMaybeInDps('e')} ORDER BY e.id DESC`,
  );
  const live: Row[] = [];
  const history: Row[] = [];
  for (const row of rows) {
    // One seek per carried ID through migration 007's index of superseded rows.
    const own = (earlier.all(row.registrationId) as Row[]).map((h) => ({
      ...h,
      supersededBy: h.supersededBy ?? row.id,
    }));
    // A bundle holds as many earlier rows as live ones at most: a reworked batch goes in more
    // than one bundle, never in one the syncing machine would refuse.
    if (history.length + own.length > MAX_BUNDLE_ENROLLMENTS) {
      // A device reworked more often than that still goes, with its newest earlier rows.
      if (live.length === 0) {
        live.push(row);
        history.push(...own.slice(0, MAX_BUNDLE_ENROLLMENTS));
      }
      break;
    }
    live.push(row);
    history.push(...own);
  }
  return { live, history };
}

/**
 * The fingerprints of the station's keys of the carried members' groups, for members whose rows
 * recorded none (provisioned by an earlier version): the others travel with their own in their
 * body, the fingerprint of the key their device key was derived from, and are checked by it
 * alone. Not carried for them on purpose: an earlier version syncing the bundle would compare the
 * group's one fingerprint and could confirm members given another key; without it they wait. A
 * group whose key does not open here goes without one: its members come back pending, and the
 * code they carry says why.
 */
async function carriedGroupKeys(
  rows: Row[],
  open: ExportRequest['groupKeys'],
): Promise<Pick<BundlePayload, 'groupKeys'>> {
  const ids = new Set<string>();
  for (const row of rows) {
    if (row.attestation !== 'symmetric-key-group') continue;
    const id = memberGroupId(row.body);
    if (id !== undefined && memberGroupKeyFingerprint(row.body).kind === 'none') {
      ids.add(id.toLowerCase());
    }
  }
  if (ids.size === 0 || open === undefined) return {};
  const fingerprints = await open();
  const groupKeys: Record<string, string> = {};
  for (const id of ids) {
    try {
      groupKeys[id] = await fingerprints(id);
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
    }
  }
  return { groupKeys };
}
