/**
 * The line's log of enrollments a sync settled for good as `conflict` or `failed`: they never
 * move again without a supervisor, and `serve` said nothing of them (only the sync state, which
 * goes back to idle as if all were well). One line per batch, its registration IDs capped.
 */
import { stationCommand } from '../cli/stationCommand.js';
import type { SettledTrouble } from '../sync/settledTrouble.js';

/** How many registration IDs a line names per code; the rest are counted. */
export const TROUBLE_IDS_SHOWN = 5;

/**
 * What to do, per code, in the log's words (the codes' own texts are for one row), with the
 * commands for the station whose data folder is `dataDir`.
 */
function whatToDo(code: string, dataDir: string | undefined): string {
  const station = (command: string): string => stationCommand(command, dataDir);
  const listFailed = station('queue list --status failed');
  const requeue = station('queue requeue --status failed --by NAME');
  switch (code) {
    case 'SYNC_CONFLICT':
      return `DPS already holds these registration IDs with other credentials; the station does not overwrite them: check them in DPS (${station('queue list --status conflict')}), then delete a stale one there and ${station('queue requeue --status conflict --by NAME')}, or set the device aside`;
    case 'SYNC_DPS_REJECTED':
      return `DPS refused these enrollments: ${listFailed} shows DPS's reason; once the profile is fixed, ${requeue}`;
    case 'SYNC_SECRET_MISSING':
      return `their symmetric key is missing: provision these devices again (${listFailed})`;
    case 'SYNC_SECRET_UNREADABLE':
      return `their sealed symmetric key is damaged: provision these devices again (${listFailed})`;
    // Group members: DPS holds no enrollment of their own; they register only through their
    // group, which a supervisor fixes in DPS (the station never writes groups), then requeues.
    case 'SYNC_GROUP_MISSING':
      return `DPS holds no enrollment group of the name their profile gives (${listFailed} names it): create that enrollment group in DPS, with symmetric-key attestation and the group key stored on this station (by keys set-group) as its primary key, then ${requeue}`;
    case 'SYNC_GROUP_MISMATCH':
      return `their enrollment group in DPS will not take them (${listFailed} says why: disabled, another attestation, or neither of its keys is the group key their keys were derived from): fix the group in DPS (enabled, symmetric-key attestation, the station's group key as its primary or secondary key), then ${requeue}; if DPS's key is the right one, these devices hold keys derived from the wrong one: store DPS's key (${station('keys set-group --group ID --replace')}) and provision them again`;
    // The worker keeps such members pending and tries again by itself (batchSync.ts); should
    // one ever settle as failed, the log says what brings its key back rather than "wait".
    case 'SYNC_GROUP_KEY_UNAVAILABLE':
      return `the key of their enrollment group is not stored on this station, or does not open here: store the group's key from DPS on this station (${station('keys set-group --group ID')}), then ${requeue}`;
    case 'SYNC_BODY_INVALID':
      return `their stored enrollment cannot be read as a DPS enrollment: call engineering (${listFailed})`;
    default:
      return `they wait for a supervisor: ${listFailed}`;
  }
}

/** The registration IDs of one code, and what to do about them. */
interface TroubleGroup {
  code: string;
  status: 'conflict' | 'failed';
  ids: string[];
}

/**
 * The log line for one batch's trouble.
 * @param dataDir the station's data folder, named in the commands when it is not the default
 */
export function troubleText(trouble: SettledTrouble, dataDir?: string): string {
  const groups = troubleGroups(trouble);
  const total = trouble.conflicts.length + trouble.failed.length;
  const parts = groups.map(
    (g) =>
      `${g.ids.length} ${g.status} [${g.code}]: ${capped(g.ids)} (${whatToDo(g.code, dataDir)})`,
  );
  return `DPS sync: ${total} of ${trouble.settled} enrollment(s) settled in a batch wait for a supervisor: ${parts.join('; ')}`;
}

/**
 * What batches that were not logged left, by code, summed: said with the next line logged, so a
 * backlog of thousands of conflicts is counted without flooding the log.
 */
export class TroubleTally {
  private batches = 0;
  private readonly rows = new Map<string, number>();
  private since: string | undefined;

  /** @param dataDir the station's data folder, named in the command when not the default */
  constructor(private readonly dataDir?: string) {}

  add(trouble: SettledTrouble): void {
    this.batches++;
    this.since ??= trouble.at;
    for (const g of troubleGroups(trouble)) {
      const key = `${g.status} [${g.code}]`;
      this.rows.set(key, (this.rows.get(key) ?? 0) + g.ids.length);
    }
  }

  get empty(): boolean {
    return this.batches === 0;
  }

  /** The summary of what was added, then empty again; undefined when nothing was. */
  take(): string | undefined {
    if (this.batches === 0) return undefined;
    const counts = [...this.rows].map(([key, n]) => `${n} ${key}`).join(', ');
    const text = `DPS sync: ${this.batches} more batch(es) since ${this.since ?? ''} left ${counts}, not listed here to keep the log short: ${stationCommand('queue list --status conflict', this.dataDir)} (or failed) lists them all`;
    this.batches = 0;
    this.rows.clear();
    this.since = undefined;
    return text;
  }
}

function troubleGroups(trouble: SettledTrouble): TroubleGroup[] {
  const groups: TroubleGroup[] = [];
  if (trouble.conflicts.length > 0) {
    groups.push({ code: 'SYNC_CONFLICT', status: 'conflict', ids: trouble.conflicts });
  }
  const failed = new Map<string, string[]>();
  for (const { registrationId, code } of trouble.failed) {
    failed.set(code, [...(failed.get(code) ?? []), registrationId]);
  }
  for (const [code, ids] of failed) groups.push({ code, status: 'failed', ids });
  return groups;
}

function capped(ids: readonly string[]): string {
  const shown = ids.slice(0, TROUBLE_IDS_SHOWN).join(', ');
  const more = ids.length - TROUBLE_IDS_SHOWN;
  return more > 0 ? `${shown} and ${more} more` : shown;
}
