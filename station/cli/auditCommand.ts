import { parseStationArgs } from './stationArgs.js';
import type { AuditEvent } from '../store/auditLog.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { resolveDataDir } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { zonedLocalTime } from './timeFlags.js';
import { countFlag, UsageError } from './usageError.js';

export const AUDIT_USAGE = `  audit [--kind KIND] [--limit N] [--json]   the station's audit trail, newest first: when,
                                             what (device.provisioned, run.failed,
                                             run.interrupted, enrollment.requeued,
                                             line.unlocked, line.unlock-refused,
                                             line.saved, line.forgotten,
                                             ca.passphrase-refused, outbox.exported,
                                             outbox.bundle-exported,
                                             outbox.bundle-withdrawn, outbox.bundle-received,
                                             enrollment.synced, enrollment.sync-failed,
                                             enrollment.conflict,
                                             outbox.retry-waits-shifted,
                                             certificate.issued-by-hand,
                                             certificate.not-saved, certificate.revoked,
                                             group-key.stored, …), about
                                             what, by whom, and its detail; times in local
                                             time with the UTC offset (--json: ISO 8601
                                             UTC); --data-dir DIR`;

/**
 * `station audit`: the append-only audit trail a supervisor answers "who did what, when" from.
 * Read-only: it opens the database to read, as the other reports do.
 */
export async function audit(args: string[]): Promise<number> {
  const { values, positionals } = parseStationArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      kind: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [sub, ...extra] = positionals;
  if ((sub !== undefined && sub !== 'list') || extra.length > 0) {
    throw new UsageError(`audit takes no "${positionals.join(' ')}"`);
  }
  const limit = countFlag('--limit', values.limit ?? '50');
  const db = openExistingStationDatabase(resolveDataDir(values['data-dir']), { toRead: true });
  try {
    const store = new ProvisioningStore(db);
    const events = store.audit(values.kind, limit);
    if (values.json) console.log(JSON.stringify(events, null, 2));
    else if (events.length === 0) console.log(nothingFound(values.kind, store.auditKinds()));
    else for (const event of events) console.log(eventLine(event));
    return 0;
  } finally {
    db.close();
  }
}

/**
 * Why nothing was listed. `--kind` must match exactly, so a kind mistyped or half-remembered
 * (`line.unlock`) is answered with the kinds the trail does hold.
 */
function nothingFound(kind: string | undefined, held: string[]): string {
  if (held.length === 0) return 'The audit trail is empty.';
  if (kind === undefined) return 'No audit event matches.';
  return `No audit event of kind "${kind}". The trail holds: ${held.join(', ')}.`;
}

/**
 * One line per event; the detail as compact JSON, since each kind has its own fields. The time
 * is local with its UTC offset (zonedLocalTime); `--json` keeps the stored ISO 8601 UTC time.
 */
function eventLine(event: AuditEvent): string {
  const detail = Object.keys(event.detail).length > 0 ? `  ${JSON.stringify(event.detail)}` : '';
  return (
    [zonedLocalTime(event.at), event.kind.padEnd(20), event.subject, event.actor].join('  ') +
    detail
  );
}
