import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { prepareProvisioningStatements } from '../provisioningStatements.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-005-');

const T0 = '2026-03-01T10:00:00.000Z';
const REWORKS = 40;

/**
 * A version-4 file in which one device was provisioned REWORKS times under registration IDs of
 * its own (each PASS superseding the one before), and another device once.
 */
function version4Database(): { liveRunId: number } {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 4));
  const device = Number(
    db
      .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('SN-1', 'm', ?)`)
      .run(T0).lastInsertRowid,
  );
  const other = Number(
    db
      .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('SN-2', 'm', ?)`)
      .run(T0).lastInsertRowid,
  );
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
    device_id, registration_id) VALUES ('p', 'x', ?, 'pass', ?, ?, ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
    attestation, body, created_at, updated_at) VALUES (?, ?, ?, 'tpm', '{}', ?, ?)`);
  const supersede = db.prepare(
    `UPDATE enrollments SET status = 'superseded', superseded_by = ? WHERE id = ?`,
  );
  let live: { id: number; runId: number } | undefined;
  for (let i = 0; i < REWORKS; i++) {
    const runId = Number(run.run(T0, T0, device, `sn-1-${i}`).lastInsertRowid);
    const id = Number(enroll.run(`sn-1-${i}`, device, runId, T0, T0).lastInsertRowid);
    if (live) supersede.run(id, live.id);
    live = { id, runId };
  }
  enroll.run('sn-2', other, Number(run.run(T0, T0, other, 'sn-2').lastInsertRowid), T0, T0);
  db.close();
  return { liveRunId: live!.runId };
}

describe('migration 005: live enrollments by device', () => {
  it("finds a reworked device's live enrollment, not its history, after the upgrade", () => {
    const { liveRunId } = version4Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const earlier = new ProvisioningStore(db).findEarlierPass({
      serialNumber: 'SN-1',
      model: 'm',
      registrationId: 'a-new-id',
    });
    expect(earlier).toMatchObject({ runId: liveRunId, registrationId: `sn-1-${REWORKS - 1}` });
    db.close();
  });

  it("the duplicate check reads a device's enrollments through the live index", () => {
    version4Database();
    const db = openStationDatabase(databaseFile());
    const { earlierPass } = prepareProvisioningStatements(db);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${earlierPass.source}`)
      .all('a-new-id', 'SN-1', 'm') as { detail: string }[];
    const details = plan.map((row) => row.detail);
    expect(details).toContainEqual(expect.stringContaining('enrollments_live_by_device'));
    expect(details.join('\n')).not.toContain('enrollments_by_device ');
    db.close();
  });
});
