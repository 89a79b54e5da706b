import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ENROLLMENT_STATUSES, type EnrollmentStatus } from '../store/outboxListing.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import { resolveDataDir } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { countFlag } from './usageError.js';

export const QUEUE_USAGE = `  queue stats                                    enrollment outbox counts by status; superseded
                                                 rows (replaced when the device was provisioned
                                                 again) are history, not counted: queue list
                                                 --status superseded shows them
  queue list   [--status S] [--limit N]          the outbox, oldest first (no secrets)
  queue export --format csv|json [--status S] [--out FILE]
                                                 the outbox for a report or a hand-over (CSV
                                                 for spreadsheets: formula-like text starts with
                                                 '; JSON keeps every value exactly)
  queue requeue --status failed|conflict --by NAME [--id N ...]
                                                 after fixing the cause: back to pending; the
                                                 sync reads DPS again before sending anything
          statuses: pending, syncing, synced, failed, conflict, superseded; --data-dir DIR`;

/** `station queue …`: what the enrollment outbox holds. */
export async function queue(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string', default: '100' },
      format: { type: 'string' },
      out: { type: 'string' },
      id: { type: 'string', multiple: true },
      by: { type: 'string' },
    },
  });
  const status = values.status as EnrollmentStatus | undefined;
  if (status !== undefined && !ENROLLMENT_STATUSES.includes(status)) {
    console.error(`station queue: --status must be one of ${ENROLLMENT_STATUSES.join(', ')}`);
    return 2;
  }
  // Checked before the database opens: NaN reached SQLite as a type error, and 0 listed
  // nothing under "The outbox is empty.".
  const limit = countFlag('--limit', values.limit);
  const db = openExistingStationDatabase(resolveDataDir(values['data-dir']), {
    toRead: sub !== 'requeue',
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
      if (rows.length === 0) console.log('The outbox is empty.');
      for (const r of rows) {
        // A row that needs a person says why: the station's code, and DPS's side on conflict.
        const why = r.lastErrorCode ? `  [${r.lastErrorCode}] ${r.lastError ?? ''}` : '';
        console.log(
          `${String(r.id).padStart(6)}  ${r.status.padEnd(10)}  ${r.attestation.padEnd(24)}  ${r.registrationId}${why}`,
        );
      }
      return 0;
    }
    if (sub === 'requeue') return requeue(db, status, values.id, values.by);
    if (sub === 'export') {
      if (values.format !== 'csv' && values.format !== 'json') {
        console.error('station queue export: --format must be csv or json');
        return 2;
      }
      const text = store.exportOutbox(values.format, filter);
      if (values.out) await writeFile(values.out, text);
      else process.stdout.write(text);
      return 0;
    }
    console.error(`station queue: unknown subcommand "${sub ?? ''}"\n${QUEUE_USAGE}`);
    return 2;
  } finally {
    db.close();
  }
}

function requeue(
  db: Parameters<typeof requeueEnrollments>[0],
  status: EnrollmentStatus | undefined,
  ids: string[] | undefined,
  by: string | undefined,
): number {
  if (status !== 'failed' && status !== 'conflict') {
    console.error('station queue requeue: --status must be failed or conflict');
    return 2;
  }
  if (!by) {
    console.error('station queue requeue: --by NAME is required (it goes into the audit trail)');
    return 2;
  }
  const numbers = ids?.map(Number);
  if (numbers?.some((n) => !Number.isInteger(n) || n < 1)) {
    console.error('station queue requeue: --id must be an outbox id (see `station queue list`)');
    return 2;
  }
  const requeued = requeueEnrollments(db, {
    status,
    supervisor: by,
    ...(numbers && { ids: numbers }),
  });
  console.log(
    requeued.length === 0
      ? `No ${status} enrollment matched.`
      : `${requeued.length} enrollment(s) back to pending: ${requeued.join(', ')}. The sync reads DPS before sending them.`,
  );
  return 0;
}
