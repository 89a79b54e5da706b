import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseStationArgs } from './stationArgs.js';
import {
  ENROLLMENT_STATUSES,
  type EnrollmentStatus,
  type OutboxEntry,
} from '../store/outboxListing.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { REVOKED_CODE } from '../store/revokedEnrollment.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import { resolveDataDir } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { QueueError } from './queueError.js';
import { exportRecorded, fileThereAlready, named, type ExportTarget } from './recordedExport.js';
import { refuseOtherOptions } from './subcommandOptions.js';
import { supervisorActor, supervisorName } from './supervisorName.js';
import { countFlag, UsageError } from './usageError.js';

export const QUEUE_USAGE = `  queue stats                                    enrollment outbox counts by status; superseded
                                                 rows (replaced when the device was provisioned
                                                 again) are history, not counted: queue list
                                                 --status superseded shows them
  queue list   [--status S] [--limit N]          the outbox, oldest first (no secrets)
  queue export --format csv|json [--status S] [--out FILE [--force]] [--by NAME]
                                                 the outbox for a report or a hand-over (CSV
                                                 for spreadsheets: formula-like text starts with
                                                 '; JSON keeps every value exactly); to standard
                                                 output, or into FILE, which must not exist
                                                 unless --force (then it is replaced); recorded
                                                 in the audit trail (outbox.exported) by --by
                                                 NAME, else this OS user's name
  queue requeue --status failed|conflict --by NAME [--id N ...]
                                                 after fixing the cause: back to pending; the
                                                 sync reads DPS again before sending anything
          statuses: pending, syncing, synced, failed, conflict, superseded; --data-dir DIR`;

/** What `queue list` says of a superseded row's enrollment in DPS (migration 017). */
const RETIREMENT_TEXT: Record<NonNullable<OutboxEntry['retirement']>, string> = {
  due: "to be disabled (deleted, under a group member's ID) at the next sync",
  disabled: 'disabled',
  absent: 'not there',
  'not-ours': 'not shown to be ours (other credentials, or ours unreadable here), left alone',
};

/** What `queue list` says of a revoked certificate's enrollment in DPS (migration 022). */
const REVOCATION_TEXT: Record<NonNullable<OutboxEntry['revocation']>, string> = {
  due: 'to be disabled at the next sync or bundle',
  disabled: 'disabled',
  absent: 'not there',
  'not-ours': 'DPS holds other credentials under the ID, left alone',
};

/**
 * Each subcommand's options: one given to another is refused, not ignored (`requeue --limit 1`
 * requeued every failed row, `export --id 7` exported the whole outbox).
 */
const OPTIONS_OF: Record<string, readonly string[]> = {
  stats: ['data-dir'],
  list: ['data-dir', 'status', 'limit'],
  export: ['data-dir', 'format', 'status', 'out', 'force', 'by'],
  requeue: ['data-dir', 'status', 'by', 'id'],
};

/** `station queue …`: what the enrollment outbox holds. */
export async function queue(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, tokens } = parseStationArgs({
    args: rest,
    tokens: true,
    options: {
      'data-dir': { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string', default: '100' },
      format: { type: 'string' },
      out: { type: 'string' },
      id: { type: 'string', multiple: true },
      by: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  refuseOtherOptions('station queue', sub, OPTIONS_OF, tokens);
  // Usage first: a mistyped subcommand or format must not read as "there is no station here".
  if (sub === undefined || !Object.hasOwn(OPTIONS_OF, sub)) {
    console.error(`station queue: unknown subcommand "${sub ?? ''}"\n${QUEUE_USAGE}`);
    return 2;
  }
  if (sub === 'export' && values.format !== 'csv' && values.format !== 'json') {
    console.error('station queue export: --format must be csv or json');
    return 2;
  }
  if (sub === 'export' && values.out === undefined && values.force) {
    throw new UsageError('--force replaces the --out FILE: without --out there is no file');
  }
  const status = values.status as EnrollmentStatus | undefined;
  if (status !== undefined && !ENROLLMENT_STATUSES.includes(status)) {
    console.error(`station queue: --status must be one of ${ENROLLMENT_STATUSES.join(', ')}`);
    return 2;
  }
  // Checked before the database opens: NaN reached SQLite as a type error, and 0 listed
  // nothing under "The outbox is empty.".
  const limit = countFlag('--limit', values.limit);
  const ids = sub === 'requeue' ? values.id?.map((text) => countFlag('--id', text)) : undefined;
  // An export hands the outbox over, so it goes into the audit trail: an empty --by is refused,
  // and so is a database that cannot take the event, before anything is written.
  const exporter = sub === 'export' ? supervisorActor(values.by) : undefined;
  // A requeue's --by is required (checked in requeue), and held to the same rule: not blank.
  const requeuer =
    sub === 'requeue' && values.by !== undefined ? supervisorName(values.by) : undefined;
  if (sub === 'requeue' && status !== 'failed' && status !== 'conflict') {
    console.error('station queue requeue: --status must be failed or conflict');
    return 2;
  }
  if (sub === 'requeue' && requeuer === undefined) {
    console.error('station queue requeue: --by NAME is required (it goes into the audit trail)');
    return 2;
  }
  const db = openExistingStationDatabase(resolveDataDir(values['data-dir']), {
    toRead: sub !== 'requeue' && sub !== 'export',
    requireWritable: sub === 'export',
  });
  try {
    const store = new ProvisioningStore(db);
    const filter = status ? { status } : {};
    if (sub === 'stats') {
      const counts = store.outboxCounts();
      for (const [name, n] of Object.entries(counts))
        console.log(`${name.padEnd(9)} ${String(n).padStart(8)}`);
      return 0;
    }
    if (sub === 'list') {
      const rows = store.listOutbox({ ...filter, limit });
      if (rows.length === 0) console.log(nothingListed(store, status));
      for (const r of rows) {
        // A row that needs a person says why: the station's code, and DPS's side on conflict.
        const why = r.lastErrorCode ? `  [${r.lastErrorCode}] ${r.lastError ?? ''}` : '';
        // A superseded row DPS held under a registration ID its device no longer uses.
        const lastTry = r.retireNote === null ? '' : `; last try: ${r.retireNote}`;
        const retired = r.retirement
          ? `  (old ID in DPS: ${RETIREMENT_TEXT[r.retirement]}${lastTry})`
          : '';
        console.log(
          `${String(r.id).padStart(6)}  ${r.status.padEnd(10)}  ${r.attestation.padEnd(24)}  ${r.registrationId}${why}${retired}${revokedText(r)}`,
        );
      }
      return 0;
    }
    if (sub === 'requeue') {
      return requeue(db, store, status as 'failed' | 'conflict', ids, requeuer!);
    }
    // The one subcommand left: export (an unknown one was refused before the database opened).
    const { out, force } = values;
    const format = values.format as 'csv' | 'json'; // checked before the database opened
    // Refused before the outbox is read: another name, or --force, and the command goes on.
    const target = out === undefined ? 'stdout' : exportTarget(out, force);
    const { text, enrollments } = store.exportOutboxCounted(format, filter);
    const detail = {
      format,
      enrollments,
      status: status ?? null,
      to: target === 'stdout' ? 'standard output' : target.file,
    };
    exportRecorded(db, { actor: exporter!, detail }, target, text);
    const wrote = `Wrote ${enrollments} enrollment(s) to ${detail.to} (${format})`;
    // Standard output is the export itself: the line for the supervisor goes to stderr.
    if (target === 'stdout') console.error(wrote);
    else console.log(wrote);
    return 0;
  } finally {
    db.close();
  }
}

function requeue(
  db: Parameters<typeof requeueEnrollments>[0],
  store: ProvisioningStore,
  /** Checked, as --by, before the database opened. */
  status: 'failed' | 'conflict',
  ids: number[] | undefined,
  /** supervisorName's. */
  by: string,
): number {
  // Every named row must match before any is requeued: a mistyped id must not pass as done,
  // nor leave the supervisor to work out which of several went back.
  if (ids !== undefined) checkRequeueIds(store, status, ids);
  const requeued = requeueEnrollments(db, {
    status,
    supervisor: by,
    ...(ids && { ids: [...new Set(ids)] }),
  });
  console.log(
    requeued.length === 0
      ? `No ${status} enrollment matched.`
      : `${requeued.length} enrollment(s) back to pending: ${requeued.join(', ')}. The sync reads DPS before sending them.`,
  );
  return 0;
}

/** Throws QUEUE_REQUEUE_NO_MATCH naming each `--id` that is no row of `status`. */
function checkRequeueIds(
  store: ProvisioningStore,
  status: 'failed' | 'conflict',
  ids: number[],
): void {
  const problems = [...new Set(ids)].flatMap((id) => {
    // The first row from `id` on: the row itself when there is one.
    const [row] = store.listOutbox({ afterId: id - 1, limit: 1 });
    if (row?.id !== id) return [`there is no enrollment ${id}`];
    if (row.lastErrorCode === REVOKED_CODE) {
      return [`enrollment ${id} carries a revoked certificate and is never sent`];
    }
    return row.status === status ? [] : [`enrollment ${id} is ${row.status}, not ${status}`];
  });
  if (problems.length > 0) {
    throw new QueueError(
      'QUEUE_REQUEUE_NO_MATCH',
      `Nothing was requeued: ${problems.join('; ')}. \`station queue list --status ${status}\` shows the ids that can be requeued.`,
    );
  }
}

/**
 * A row whose certificate was revoked, as `queue list` shows it: its status stays what DPS was
 * told (a synced row stays `synced`), so the list says what became of it in DPS.
 */
function revokedText(r: OutboxEntry): string {
  if (r.revocation === null) return '';
  const lastTry = r.revocationNote === null ? '' : `; last try: ${r.revocationNote}`;
  return `  (certificate revoked; in DPS: ${REVOCATION_TEXT[r.revocation]}${lastTry})`;
}

/**
 * Why `queue list` printed no row: an empty outbox, or none with the status asked for (a
 * supervisor looking for failed rows must not read "empty" when everything synced).
 */
function nothingListed(store: ProvisioningStore, status: EnrollmentStatus | undefined): string {
  if (status === undefined || store.listOutbox({ limit: 1 }).length === 0) {
    return 'The outbox is empty.';
  }
  const total = Object.values(store.outboxCounts()).reduce((sum, n) => sum + n, 0);
  const state = status === 'conflict' ? 'in conflict' : status;
  // Superseded rows are history, not counted (as in `queue stats`).
  return total === 0
    ? `No enrollment is ${state} (the outbox holds only superseded ones).`
    : `No enrollment is ${state} (${total} in the outbox).`;
}

/** The file `--out` names, refused when it is a folder or, without --force, a file. */
function exportTarget(out: string, force: boolean): Exclude<ExportTarget, 'stdout'> {
  const file = resolve(out);
  // One look at the path; one that cannot be reached is left to the folder check below.
  let found: Stats | undefined;
  try {
    found = statSync(file, { throwIfNoEntry: false });
  } catch {
    found = undefined;
  }
  // A folder given as --out (a stick's mount point) is named as such first, whatever its parent.
  if (found?.isDirectory()) {
    throw new UsageError(`--out ${named(out, file)}: that is a folder; give a file name`);
  }
  // Its folder must take a file: else the write fails later, naming only the hidden temporary.
  refuseUnwritableFolder(out, file);
  if (found !== undefined && !force) throw fileThereAlready(out, file);
  return { file, typed: out, force };
}

/** Refuses, as a usage error naming --out, a folder that is not there or cannot be written. */
function refuseUnwritableFolder(out: string, file: string): void {
  const folder = dirname(file);
  const cannot = (err: unknown): UsageError =>
    new UsageError(
      `--out ${named(out, file)}: the folder ${folder} cannot be written to (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another folder`,
    );
  let found;
  try {
    found = statSync(folder, { throwIfNoEntry: false });
  } catch (err) {
    // A file on the way (/tmp/report.csv/x.csv) means there is no such folder, as ENOENT does.
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw cannot(err);
  }
  if (found === undefined) {
    throw new UsageError(
      `--out ${named(out, file)}: there is no folder ${folder}; create it, or give a path in a folder that exists`,
    );
  }
  if (!found.isDirectory()) {
    throw new UsageError(
      `--out ${named(out, file)}: ${folder} is not a folder; give a path in one`,
    );
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw cannot(err);
  }
}
