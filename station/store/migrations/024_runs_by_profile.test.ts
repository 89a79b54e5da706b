import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LAST_RECORDED_PROFILE_SQL } from '../profileChanges.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-024-');

const T0 = '2026-03-01T10:00:00.000Z';

/** Runs of two profiles, most with their DPS settings, a few without (from before 014). */
function insertRuns(db: Database.Database): void {
  const insert = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
      error_code, dps_id_scope, dps_global_endpoint, profile_fingerprint)
    VALUES ('/dev/ttyUSB0', ?, ?, 'fail', ?, 'WIRE_TIMEOUT', ?, ?, ?)`);
  const settings = (fingerprint: string) => [
    '0ne00AB12CD',
    'global.azure-devices-provisioning.net',
    fingerprint,
  ];
  db.transaction(() => {
    insert.run('Line7', T0, T0, ...settings('00000000000000a1')); // 1
    insert.run('gateway', T0, T0, ...settings('00000000000000b1')); // 2
    insert.run('line7', T0, T0, ...settings('00000000000000a2')); // 3
    insert.run('LINE7', T0, T0, null, null, null); // 4: recorded nothing
    for (let i = 0; i < 200; i += 1) insert.run('gateway', T0, T0, ...settings('00000000000000b2'));
  })();
}

const planOf = (db: Database.Database): string =>
  (
    db.prepare(`EXPLAIN QUERY PLAN ${LAST_RECORDED_PROFILE_SQL}`).all('line7') as {
      detail: string;
    }[]
  )
    .map((row) => row.detail)
    .join('\n');

describe("migration 024: each profile's runs, newest last", () => {
  it("finds a profile's last recorded run down its own index, whatever the letter case", () => {
    const before = new Database(databaseFile());
    before.pragma('foreign_keys = ON');
    migrate(before, migrations.slice(0, 23));
    insertRuns(before);
    // Before: down the primary key, through every run newer than the profile's last.
    expect(planOf(before)).not.toContain('runs_by_profile');
    before.close();

    const db = openStationDatabase(databaseFile());
    try {
      expectLatestSchema(db);
      const read = db.prepare(LAST_RECORDED_PROFILE_SQL);
      expect(read.get('LINE7')).toMatchObject({
        runId: 3,
        profile: 'line7',
        profileFingerprint: '00000000000000a2',
      });
      expect(read.get('Gateway')).toMatchObject({
        runId: 204,
        profileFingerprint: '00000000000000b2',
      });
      expect(read.get('never-ran')).toBeUndefined();

      const plan = planOf(db);
      expect(plan).toContain('USING INDEX runs_by_profile (profile=?)');
      expect(plan).not.toContain('TEMP B-TREE');
      // As the planner sees it once the station's statistics hold the runs, too.
      db.exec('ANALYZE');
      expect(planOf(db)).toContain('USING INDEX runs_by_profile (profile=?)');
      expect(
        db.prepare(`SELECT name, coll FROM pragma_index_xinfo('runs_by_profile') WHERE key`).all(),
      ).toEqual([
        { name: 'profile', coll: 'NOCASE' },
        { name: 'id', coll: 'BINARY' },
      ]);
    } finally {
      db.close();
    }
  });
});
