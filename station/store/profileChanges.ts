import type Database from 'better-sqlite3';
import type { RunDpsRecord } from '../line/runRecorder.js';
import { AuditLog } from './auditLog.js';

/** The audit event a line's start writes when its profile is not the one the last run used. */
export const PROFILE_CHANGED = 'profile.changed';

/** The profile a line starts with, as its runs will record it (runDpsRecord). */
export interface StartingProfile extends RunDpsRecord {
  name: string;
}

/** What the latest run that recorded its DPS settings recorded (migration 014). */
export interface RecordedProfile extends RunDpsRecord {
  runId: number;
  profile: string;
  /** ISO 8601. */
  startedAt: string;
}

/** A line starting with another profile, or another version of it, than the last run used. */
export interface ProfileChange {
  starting: StartingProfile;
  previous: RecordedProfile;
  /** False when an earlier start recorded this very change already, with no run since. */
  newlyRecorded: boolean;
}

/**
 * Walks down the primary key from the newest run and stops at the first that recorded its
 * settings: every run a line opens records them, so that is the newest one, unless the file
 * holds only runs from before migration 014 (read once, at a start).
 */
export const LAST_RECORDED_PROFILE_SQL = `SELECT id AS runId, profile, started_at AS startedAt,
    dps_id_scope AS idScope, dps_global_endpoint AS globalEndpoint,
    profile_fingerprint AS profileFingerprint
  FROM runs WHERE profile_fingerprint IS NOT NULL ORDER BY id DESC LIMIT 1`;

/**
 * Compares the profile a line starts with against the one the last run on this station recorded
 * and, when its fingerprint differs, appends one `profile.changed` audit event: the profiles file
 * is read by path at every start, so an edit (another well-formed scope) would otherwise reach
 * the devices with no trace. Nothing when no run recorded a profile yet (a first start). A start
 * repeated with no run between finds its own event and writes none again. One IMMEDIATE
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
      const previous = read.get() as RecordedProfile | undefined;
      if (previous === undefined) return undefined;
      if (previous.profileFingerprint === starting.profileFingerprint) return undefined;
      const detail = changeDetail(starting, previous);
      const [latest] = audit.list(PROFILE_CHANGED, 1);
      const seen =
        latest !== undefined &&
        latest.detail.previousRunId === previous.runId &&
        latest.detail.fingerprint === starting.profileFingerprint;
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

/** The event's detail: the fingerprints always, the name, scope and endpoint when they differ. */
function changeDetail(starting: StartingProfile, previous: RecordedProfile) {
  return {
    profile: starting.name,
    ...(previous.profile !== starting.name && { previousProfile: previous.profile }),
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
  const was = previous.profile === starting.name ? '' : ` (then "${previous.profile}")`;
  const settings =
    differs.length > 0
      ? `${differs.join(', ')}: check the ID scope against the DPS overview page before devices pass`
      : 'the ID scope and global endpoint are unchanged';
  const recorded = change.newlyRecorded
    ? `recorded in the audit trail as ${PROFILE_CHANGED}`
    : `recorded as ${PROFILE_CHANGED} at an earlier start`;
  return (
    `Profile "${starting.name}" has changed since the last run on this station, run ${previous.runId}${was}: ` +
    `fingerprint ${previous.profileFingerprint} -> ${starting.profileFingerprint}; ${settings}; ${recorded}.`
  );
}
