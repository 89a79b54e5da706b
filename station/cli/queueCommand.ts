import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { EnrollmentStatus } from '../store/outboxListing.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { resolveDataDir, stationPaths } from './dataDir.js';

export const QUEUE_USAGE = `  queue stats                                    enrollment outbox counts by status
  queue list   [--status S] [--limit N]          the outbox, oldest first (no secrets)
  queue export --format csv|json [--status S] [--out FILE]
                                                 the outbox for a report or a hand-over
          statuses: pending, syncing, synced, failed, conflict, superseded; --data-dir DIR`;

const STATUSES: readonly EnrollmentStatus[] = [
  'pending',
  'syncing',
  'synced',
  'failed',
  'conflict',
  'superseded',
];

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
    },
  });
  const status = values.status as EnrollmentStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) {
    console.error(`station queue: --status must be one of ${STATUSES.join(', ')}`);
    return 2;
  }
  const db = openStationDatabase(stationPaths(resolveDataDir(values['data-dir'])).database);
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
      const rows = store.listOutbox({ ...filter, limit: Number(values.limit) });
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
