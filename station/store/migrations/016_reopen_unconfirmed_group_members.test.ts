import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../auditLog.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-016-');

const T0 = '2026-03-01T10:00:00.000Z';

/** Notes as each version wrote them on a synced row, by registration ID. */
const NOTES = {
  // Earlier versions, never asking DPS: the worker's own, and `bundle receive`'s two forms.
  'online-covered': 'covered by enrollment group gadgets',
  'bundle-covered': 'synced through bundle 0a1b2c3d (covered by enrollment group gadgets)',
  'bundle-fallback': 'synced through bundle 0a1b2c3d (covered by its enrollment group)',
  // This version, after DPS showed the group with the station's key.
  'online-confirmed':
    "confirmed by enrollment group gadgets in DPS (enabled, symmetric keys, the station's group key as its primary key)",
  'bundle-confirmed': 'synced through bundle 0a1b2c3d (confirmed by its enrollment group in DPS)',
} as const;

/** A version-15 file holding one synced group member per note, and a synced TPM row. */
function version15Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 15));
  const device = db.prepare(
    `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, status, synced_at, sync_note, created_at, updated_at)
    VALUES (?, ?, ?, ?, '{"enrollmentGroupId":"gadgets"}', 'synced', ?, ?, ?, ?)`);
  const rows: [string, string, string | null][] = [
    ...Object.entries(NOTES).map(([id, note]): [string, string, string] => [
      id,
      'symmetric-key-group',
      note,
    ]),
    ['tpm-found', 'tpm', 'found in DPS'],
  ];
  for (const [registrationId, attestation, note] of rows) {
    const deviceId = Number(device.run(registrationId, T0).lastInsertRowid);
    const runId = Number(run.run(T0, T0, deviceId, registrationId).lastInsertRowid);
    enroll.run(registrationId, deviceId, runId, attestation, T0, note, T0, T0);
  }
  db.close();
}

function statuses(db: Database.Database): Record<string, [string, string | null]> {
  const rows = db
    .prepare(`SELECT registration_id AS id, status, sync_note AS note FROM enrollments`)
    .all() as { id: string; status: string; note: string | null }[];
  return Object.fromEntries(rows.map((row) => [row.id, [row.status, row.note]]));
}

describe('migration 016: group members synced without asking DPS are reopened', () => {
  it('reopens the rows earlier versions marked synced, once, with one audit event each', () => {
    version15Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(migrations[15]).toMatchObject({ version: 16, name: 'reopen_unconfirmed_group_members' });

    expect(statuses(db)).toEqual({
      'online-covered': ['pending', null],
      'bundle-covered': ['pending', null],
      'bundle-fallback': ['pending', null],
      'online-confirmed': ['synced', NOTES['online-confirmed']],
      'bundle-confirmed': ['synced', NOTES['bundle-confirmed']],
      'tpm-found': ['synced', 'found in DPS'],
    });
    const reopened = db
      .prepare(
        `SELECT synced_at AS syncedAt, updated_at AS updatedAt FROM enrollments
        WHERE status = 'pending'`,
      )
      .all() as { syncedAt: string | null; updatedAt: string }[];
    expect(reopened.every((row) => row.syncedAt === null && row.updatedAt !== T0)).toBe(true);
    // The outbox counts (kept by trigger) follow.
    expect(db.prepare(`SELECT n FROM outbox_counts WHERE status = 'pending'`).pluck().get()).toBe(
      3,
    );

    const events = new AuditLog(db).list('enrollment.sync-reopened');
    expect(
      events.map((event) => [event.subject, event.actor, event.detail['earlierNote']]),
    ).toEqual([
      ['bundle-fallback', 'station', NOTES['bundle-fallback']],
      ['bundle-covered', 'station', NOTES['bundle-covered']],
      ['online-covered', 'station', NOTES['online-covered']],
    ]);
    db.close();

    // Opened again, and the step itself run again: nothing more changes.
    const again = openStationDatabase(databaseFile());
    migrations[15]?.up(again);
    expect(new AuditLog(again).list('enrollment.sync-reopened')).toHaveLength(3);
    expect(
      again.prepare(`SELECT count(*) FROM enrollments WHERE status = 'pending'`).pluck().get(),
    ).toBe(3);
    again.close();
  });
});
