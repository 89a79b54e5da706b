import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStationDatabase, migrate } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-019-');

const T0 = '2026-03-01T10:00:00.000Z';

/**
 * One device per case: its earlier row under an ID, as migration 017 and the sync left it
 * (attempts, retirement), then its live row under the same ID with the attestation named.
 */
const CASES: [
  id: string,
  earlier: { attempts: number; retirement: string | null },
  liveAttestation: string,
][] = [
  ['moved-sent', { attempts: 1, retirement: null }, 'symmetric-key-group'],
  ['moved-never-sent', { attempts: 0, retirement: null }, 'symmetric-key-group'],
  ['moved-after-disable', { attempts: 2, retirement: 'disabled' }, 'symmetric-key-group'],
  ['moved-after-absent', { attempts: 1, retirement: 'absent' }, 'symmetric-key-group'],
  ['moved-not-ours', { attempts: 1, retirement: 'not-ours' }, 'symmetric-key-group'],
  ['stayed-individual', { attempts: 1, retirement: null }, 'tpm'],
];

function version18Database(): void {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 18));
  const device = db.prepare(
    `INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)`);
  const supersede = db.prepare(`UPDATE enrollments SET status = 'superseded', retirement = ?,
    retired_at = ? WHERE id = ?`);
  for (const [id, earlier, liveAttestation] of CASES) {
    const deviceId = Number(device.run(id, T0).lastInsertRowid);
    const first = Number(run.run(T0, T0, deviceId, id).lastInsertRowid);
    const old = Number(
      enroll.run(id, deviceId, first, 'tpm', earlier.attempts, T0, T0).lastInsertRowid,
    );
    supersede.run(earlier.retirement, earlier.retirement === null ? null : T0, old);
    const second = Number(run.run(T0, T0, deviceId, id).lastInsertRowid);
    enroll.run(id, deviceId, second, liveAttestation, 0, T0, T0);
  }
  db.close();
}

describe('migration 019: earlier individual enrollments under a group member’s ID', () => {
  it('marks them due once when DPS may hold them and they are not retired, or only disabled', () => {
    version18Database();
    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      expect(
        db
          .prepare(
            `SELECT registration_id AS id, retirement, retired_at AS at FROM enrollments
            WHERE status = 'superseded' ORDER BY rowid`,
          )
          .all(),
      ).toEqual([
        { id: 'moved-sent', retirement: 'due', at: null },
        { id: 'moved-never-sent', retirement: null, at: null },
        { id: 'moved-after-disable', retirement: 'due', at: null },
        { id: 'moved-after-absent', retirement: 'absent', at: T0 },
        { id: 'moved-not-ours', retirement: 'not-ours', at: T0 },
        { id: 'stayed-individual', retirement: null, at: null },
      ]);
    } finally {
      db.close();
    }
  });
});
