import { AuditLog, type AuditActor } from './auditLog.js';
import { closeStationDatabase, openStationDatabase } from './stationDatabase.js';
import { asStoreError } from './storeError.js';

/**
 * Appends one event to the audit trail of the station database at `path`, for a station whose
 * store is not open: a locked line keeps its store shut until the CA passphrase is typed, yet
 * what happens at its unlock form (a wrong passphrase) belongs in the trail at once, not only if
 * a right one ever follows. The database is created if it is not there yet, as the line's first
 * start would. Throws StoreError.
 */
export function appendAuditEvent(
  path: string,
  event: { actor: AuditActor; kind: string; subject: string; detail: Record<string, unknown> },
  now: Date = new Date(),
): void {
  const db = openStationDatabase(path, { requireWritable: true });
  try {
    asStoreError(`record ${event.kind}`, () => new AuditLog(db).append({ ...event, at: now }));
  } finally {
    closeStationDatabase(db);
  }
}
