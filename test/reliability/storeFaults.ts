/**
 * Real resource failures for the store's reliability suites, made without mount or root: a
 * database SQLite itself holds to its current size, and pages overwritten on disk.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { PassedRunRecord } from '../../station/line/lineTypes.js';
import type { ProvisioningStore } from '../../station/store/provisioningStore.js';
import {
  passedRun,
  recordIssuedCertificate,
} from '../../station/store/testing/provisioningFixtures.js';

/**
 * Makes the database full, as a full disk does: it may not grow by a page (max_page_count), a
 * filler table takes its free pages, and filler events the last corner of the audit trail, which
 * every commit and every sync settlement appends to. Returns a function that gives the room back
 * (what was filled stays; the file may grow again).
 */
export function fillDatabase(db: Database.Database): () => void {
  db.exec('CREATE TABLE IF NOT EXISTS disk_filler (blob BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const filler = db.prepare('INSERT INTO disk_filler VALUES (randomblob(?))');
  const event = db.prepare(`INSERT INTO audit_events (at, actor, kind, subject, detail)
    VALUES ('2026-03-01T00:00:00.000Z', 'station', 'test.disk-filler', 'disk', json_object('pad', printf('%.*c', ?, 'x')))`);
  // Big rows take whole pages, the small ones the corners left in each page.
  for (const insert of [filler, event]) {
    for (const size of [2048, 256, 16, 1]) {
      try {
        for (;;) insert.run(size);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
      }
    }
  }
  return () => void db.pragma('max_page_count = 1073741823');
}

/** Overwrites every page of table or index `name` in the file with garbage. */
export function corruptPagesOf(db: Database.Database, file: string, name: string): void {
  const pages = db
    .prepare('SELECT pageno FROM dbstat WHERE name = ?')
    .pluck()
    .all(name) as number[];
  if (pages.length === 0) throw new Error(`${name} has no pages`);
  // Fold the WAL into the file first: a page still in the WAL would be read from there.
  db.pragma('wal_checkpoint(TRUNCATE)');
  const size = db.pragma('page_size', { simple: true }) as number;
  const fd = openSync(file, 'r+');
  try {
    for (const page of pages) writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, (page - 1) * size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Room no page has spare, so a row holding it must grow the file: a full database refuses it
 * whatever free corners its pages have left.
 */
export const MORE_THAN_A_PAGE = 4 * 4096;

/**
 * A run begun on the store, its certificate issued: what the line holds when it commits. Its
 * enrollment carries a certificate chain of MORE_THAN_A_PAGE, so its commit needs new pages.
 */
export function beginDevice(
  db: Database.Database,
  store: ProvisioningStore,
  serial: string,
): PassedRunRecord {
  const runId = store.beginRun('/dev/ttyUSB0', 'line7', Date.now());
  const registrationId = `reg-${serial.toLowerCase()}`;
  const certificate = 'M'.repeat(MORE_THAN_A_PAGE);
  const record = passedRun(runId, serial, {
    enrollment: {
      registrationId,
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate } } } },
    },
  });
  recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
  return record;
}

/** The run's state and its certificate's, as the store holds them. */
export function runAndCertificate(db: Database.Database, record: PassedRunRecord) {
  return db
    .prepare(
      `SELECT r.state, r.error_code AS errorCode, c.status AS certificate,
        (SELECT count(*) FROM enrollments e WHERE e.run_id = r.id) AS enrollments
      FROM runs r LEFT JOIN certificates c ON c.serial_number = ? WHERE r.id = ?`,
    )
    .get(record.certificateSerial, record.runId);
}
