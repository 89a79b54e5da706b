import { AuditLog, type AuditActor } from './auditLog.js';
import { closeStationDatabase, openStationDatabase } from './stationDatabase.js';
import { asStoreError } from './storeError.js';

/** The audit event of a change, as the change's result describes it. */
export interface AuditedEvent {
  actor: AuditActor;
  kind: string;
  subject: string;
  /** Facts only: never a key, a passphrase or a connection string. */
  detail: Record<string, unknown>;
}

/**
 * Runs a supervisor's change that lives outside the database (the CA's files, the sealed DPS
 * connection) and records its audit event in the station database at `database`. The database
 * is opened, and created when no line has run yet, before the change: one that cannot take the
 * event (damaged, read-only) refuses the command before anything changes that the trail would
 * not show. Files and database cannot share a transaction, so a write that fails after the
 * change (a disk filling up in between) throws a StoreError naming the event, and the change
 * stays made. Throws StoreError, or what `change` throws (then nothing is recorded).
 */
export async function auditedChange<T>(
  database: string,
  change: () => Promise<T>,
  event: (result: T) => AuditedEvent,
): Promise<T> {
  const db = openStationDatabase(database, { requireWritable: true });
  try {
    const result = await change();
    const described = event(result);
    asStoreError(`record ${described.kind}`, () =>
      new AuditLog(db).append({ ...described, at: new Date() }),
    );
    return result;
  } finally {
    closeStationDatabase(db);
  }
}
