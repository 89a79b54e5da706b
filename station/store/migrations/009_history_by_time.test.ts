import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { certificateListSql, CertificateLedger } from '../certificateLedger.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { RUNS_BY_STATE_SQL } from '../runHistory.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-009-');

/** A version-8 file with a day of runs, one an hour. */
function version8Database(): void {
  const db = new Database(databaseFile());
  migrate(db, migrations.slice(0, 8));
  const insert = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    error_code) VALUES ('p', 'x', ?, 'fail', ?, 'WIRE_TIMEOUT')`);
  for (let hour = 0; hour < 24; hour++) {
    const at = new Date(Date.UTC(2026, 11, 5, hour)).toISOString();
    insert.run(at, at);
  }
  db.close();
}

describe('migration 009: the history by time', () => {
  it('counts the runs of a window after the upgrade, through the new index', () => {
    version8Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const stats = new ProvisioningStore(db).runStats('2026-12-05T18:00:00.000Z');
    expect(stats.byState.fail).toBe(6);
    expect(stats.byError).toEqual([
      { code: 'WIRE_TIMEOUT', runs: 6, latestRunId: 24, message: '' },
    ]);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${RUNS_BY_STATE_SQL}`)
      .all({ since: 'x', port: null }) as {
      detail: string;
    }[];
    expect(plan.map((row) => row.detail).join('\n')).toContain('runs_by_started_at');
    db.close();
  });

  it('lists the newest certificates by walking the new index, not by sorting them all', () => {
    version8Database();
    const db = openStationDatabase(databaseFile());
    const insert = db.prepare(`INSERT INTO certificates (serial_number, registration_id, subject,
      fingerprint_sha256, not_before, not_after, profile, key_source, certificate_der, issued_at)
      VALUES (?, 'r', 'CN=r', ?, 'x', 'x', 'x', 'device', x'3000', ?)`);
    for (const [serial, at] of [
      ['0a', '2026-12-05T10:00:00.000Z'],
      ['0c', '2026-12-05T11:00:00.000Z'],
      ['0b', '2026-12-05T11:00:00.000Z'],
    ] as const) {
      insert.run(serial, `fp-${serial}`, at);
    }
    expect(new CertificateLedger(db).list({ limit: 2 }).map((c) => c.serialNumber)).toEqual([
      '0c',
      '0b',
    ]);
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${certificateListSql([])}`).all(10) as {
      detail: string;
    }[];
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toContain('certificates_by_issued_at');
    expect(details).not.toContain('TEMP B-TREE');
    db.close();
  });
});
