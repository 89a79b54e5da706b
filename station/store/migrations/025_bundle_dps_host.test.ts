import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-025-');

const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-02T10:00:00.000Z';
const RECEIPT = JSON.stringify({ synced: 1, failed: 0, conflict: 0, pending: 0 });

/**
 * A version-24 file: a bundle received twice (from two DPS, as the receive before 025 let it),
 * one received whose receive left no audit event naming a host, one never received.
 */
function version24Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 24));
  const bundle = db.prepare(`INSERT INTO bundles (id, created_at, file, enrollments, written_at,
      received_at, receipt) VALUES (?, ?, ?, 1, ?, ?, ?)`);
  bundle.run('twice', T0, '/media/stick/a.bundle', T0, T1, RECEIPT);
  bundle.run('unnamed', T0, '/media/stick/b.bundle', T0, T1, RECEIPT);
  bundle.run('waiting', T0, '/media/stick/c.bundle', T0, null, null);
  const received = db.prepare(`INSERT INTO audit_events (at, actor, kind, subject, detail)
    VALUES (?, 'supervisor:ben', 'outbox.bundle-received', ?, ?)`);
  // A sync that reached no DPS (a mistyped port) names none: its receipt settled nothing.
  received.run(T0, 'twice', JSON.stringify({ synced: 0, failed: 0, dpsHost: '127.0.0.1:1' }));
  received.run(T0, 'twice', JSON.stringify({ synced: 1, dpsHost: 'localhost' }));
  received.run(
    T1,
    'twice',
    JSON.stringify({ synced: 0, dpsHost: 'line.azure-devices-provisioning.net' }),
  );
  received.run(T1, 'unnamed', JSON.stringify({ synced: 1 }));
  db.prepare(
    `INSERT INTO audit_events (at, actor, kind, subject, detail)
    VALUES (?, 'station', 'outbox.bundle-exported', 'waiting', '{"dpsHost":"elsewhere"}')`,
  ).run(T0);
  db.close();
}

describe("migration 025: the DPS of a bundle's first receipt", () => {
  it('takes the host of the first audited receive that settled something, and none for a bundle never received', () => {
    version24Database();
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(db.prepare(`SELECT id, dps_host FROM bundles ORDER BY rowid`).all()).toEqual([
        { id: 'twice', dps_host: 'localhost' },
        { id: 'unnamed', dps_host: null },
        { id: 'waiting', dps_host: null },
      ]);
      const name = db.prepare(`UPDATE bundles SET dps_host = ? WHERE id = ?`);
      expect(name.run('line.azure-devices-provisioning.net', 'unnamed').changes).toBe(1);
      // Only a receipt applied names a DPS.
      expect(() => name.run('line.azure-devices-provisioning.net', 'waiting')).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});
