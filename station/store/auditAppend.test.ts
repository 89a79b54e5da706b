import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appendAuditEvent } from './auditAppend.js';
import { AuditLog } from './auditLog.js';
import { openStationDatabaseToRead } from './stationDatabase.js';
import { useMigrationTestFile } from './testing/migrationTestFile.js';

const databaseFile = useMigrationTestFile('ls-audit-append-');
const EVENT = {
  actor: 'station',
  kind: 'line.unlock-refused',
  subject: 'line',
  detail: { inARow: 1 },
} as const;

describe('appendAuditEvent', () => {
  it('creates the database a locked line has not opened yet, and appends to it after', () => {
    const file = databaseFile();
    appendAuditEvent(file, EVENT, new Date('2026-12-06T10:00:00Z'));
    appendAuditEvent(file, { ...EVENT, detail: { inARow: 2 } }, new Date('2026-12-06T10:00:05Z'));
    const db = openStationDatabaseToRead(file);
    try {
      expect(new AuditLog(db).list()).toMatchObject([
        { at: '2026-12-06T10:00:05.000Z', kind: 'line.unlock-refused', detail: { inARow: 2 } },
        {
          at: '2026-12-06T10:00:00.000Z',
          actor: 'station',
          subject: 'line',
          detail: { inARow: 1 },
        },
      ]);
    } finally {
      db.close();
    }
  });

  it('refuses a damaged file with a store code and leaves it as it was', () => {
    const file = databaseFile();
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(file, garbage);
    expect(() => appendAuditEvent(file, EVENT)).toThrow(
      expect.objectContaining({ code: 'STORE_DATABASE_CORRUPT' }),
    );
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });
});
