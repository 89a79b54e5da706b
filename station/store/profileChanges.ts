import type Database from 'better-sqlite3';
import type { RunDpsRecord } from '../line/runRecorder.js';
import { AuditLog } from './auditLog.js';

/** The audit event a line's start writes when its profile is not the one the last run used. */
export const PROFILE_CHANGED = 'profile.changed';

/** The profile a line starts with, as its runs will record it (runDpsRecord). */
export interface StartingProfile extends RunDpsRecord {
  name: string;
}

/** What the latest run of a profile that recorded its DPS settings recorded (migration 014). */
export interface RecordedProfile extends RunDpsRecord {
  runId: number;
  profile: string;
  /** ISO 8601. */
  startedAt: string;
}

/** A line starting with another version of its profile than the profile's last run used. */
export interface ProfileChange {
  starting: StartingProfile;
  previous: RecordedProfile;
  /** False when an earlier start recorded this very change already, with no run since. */
  newlyRecorded: boolean;
}

/**
 * The newest run of this profile that recorded its settings, one seek down `runs_by_profile`
 * (migration 024: profile without letter case, then id, of the runs with a fingerprint), which
 * this WHERE matches as its partial index asks. Of this profile only: a profiles file holds one
 * entry per product and a line may switch products any day, which is not a change of either.
 * Names are unique ignoring letter case (profileCrossChecks.ts). Read at every start, inside its
 * IMMEDIATE transaction: without the index, a product not run for a long time (or never) cost a
 * walk over every run while holding the write lock.
 */
export const LAST_RECORDED_PROFILE_SQL = `SELECT id AS runId, profile, started_at AS startedAt,
    dps_id_scope AS idScope, dps_global_endpoint AS globalEndpoint,
    profile_fingerprint AS profileFingerprint
  FROM runs WHERE profile = ? COLLATE NOCASE AND profile_fingerprint IS NOT NULL
  ORDER BY id DESC LIMIT 1`;

/** Events of this kind searched for a start's own earlier record of the same change. */
const RECENT_CHANGES_LOOKED_AT = 20;

/**
 * Compares the profile a line starts with against what the last run of that profile on this
 * station recorded and, when its fingerprint differs, appends one `profile.changed` audit event: the profiles file
 * is read by path at every start, so an edit (another well-formed scope) would otherwise reach
 * the devices with no trace. Nothing when no run of it recorded a profile yet (its first start). A
 * start repeated with no run of it between finds its own event and writes none again. One IMMEDIATE
 * transaction: two stations starting on one data folder write the event once.
 */
export function recordProfileChange(
  db: Database.Database,
  starting: StartingProfile,
  now: Date,
): ProfileChange | undefined {
  const audit = new AuditLog(db);
  const read = db.prepare(LAST_RECORDED_PROFILE_SQL);
  return db
    .transaction((): ProfileChange | undefined => {
      const previous = read.get(starting.name) as RecordedProfile | undefined;
      if (previous === undefined) return undefined;
      if (previous.profileFingerprint === starting.profileFingerprint) return undefined;
      const detail = changeDetail(starting, previous);
      const seen = audit
        .list(PROFILE_CHANGED, RECENT_CHANGES_LOOKED_AT)
        .some(
          (event) =>
            event.detail.previousRunId === previous.runId &&
            event.detail.fingerprint === starting.profileFingerprint,
        );
      if (!seen) {
        audit.append({
          at: now,
          actor: 'station',
          kind: PROFILE_CHANGED,
          subject: `profile:${starting.name}`,
          detail,
        });
      }
      return { starting, previous, newlyRecorded: !seen };
    })
    .immediate();
}

/** The event's detail: the fingerprints always, the scope and endpoint when they differ. */
function changeDetail(starting: StartingProfile, previous: RecordedProfile) {
  return {
    profile: starting.name,
    previousFingerprint: previous.profileFingerprint,
    fingerprint: starting.profileFingerprint,
    ...(previous.idScope !== starting.idScope && {
      previousIdScope: previous.idScope,
      idScope: starting.idScope,
    }),
    ...(previous.globalEndpoint !== starting.globalEndpoint && {
      previousGlobalEndpoint: previous.globalEndpoint,
      globalEndpoint: starting.globalEndpoint,
    }),
    previousRunId: previous.runId,
  };
}

/** The start-up log line for a change: what differs, and what the supervisor should check. */
export function profileChangeText(change: ProfileChange): string {
  const { starting, previous } = change;
  const differs: string[] = [];
  if (previous.idScope !== starting.idScope) {
    differs.push(`ID scope ${previous.idScope} -> ${starting.idScope}`);
  }
  if (previous.globalEndpoint !== starting.globalEndpoint) {
    differs.push(`global endpoint ${previous.globalEndpoint} -> ${starting.globalEndpoint}`);
  }
  const settings =
    differs.length > 0
      ? `${differs.join(', ')}: check the ID scope against the DPS overview page before devices pass`
      : 'the ID scope and global endpoint are unchanged';
  const recorded = change.newlyRecorded
    ? `recorded in the audit trail as ${PROFILE_CHANGED}`
    : `recorded as ${PROFILE_CHANGED} at an earlier start`;
  return (
    `Profile "${starting.name}" has changed since its last run on this station, run ${previous.runId}: ` +
    `fingerprint ${previous.profileFingerprint} -> ${starting.profileFingerprint}; ${settings}; ${recorded}.`
  );
}
