import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../provisioningStore.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { passedRun, recordIssuedCertificate } from '../testing/provisioningFixtures.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-011-');
const SHA = 'ab'.repeat(32);

describe('migration 011: outbox bundles', () => {
  it('adds the bundle tables beside an outbox that has rows, and holds their rules', () => {
    const old = new Database(databaseFile());
    migrate(old, migrations.slice(0, 10));
    old.close();
    let db = openStationDatabase(databaseFile());
    const store = new ProvisioningStore(db);
    const record = passedRun(store.beginRun('/dev/ttyUSB0', 'line7', 1_000), 'SN1');
    recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
    store.commitPass(record);
    db.close();

    db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    const enrollmentId = db.prepare('SELECT id FROM enrollments').pluck().get() as number;
    const bundle = db.prepare(
      `INSERT INTO bundles (id, created_at, file, enrollments, received_at, receipt)
       VALUES (?, '2026-12-06T00:00:00Z', 'b.lsb', ?, ?, ?)`,
    );
    const member = db.prepare(
      'INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)',
    );
    bundle.run('b1', 1, null, null);
    member.run('b1', enrollmentId, SHA);

    expect(() => bundle.run('b0', 0, null, null)).toThrow(/CHECK constraint failed/);
    expect(() => bundle.run('b2', 1, '2026-12-06T01:00:00Z', null)).toThrow(/CHECK/);
    expect(() => bundle.run('b3', 1, '2026-12-06T01:00:00Z', 'not json')).toThrow(/CHECK/);
    expect(() => member.run('b1', enrollmentId, 'short')).toThrow(/CHECK/);
    expect(() => member.run('b1', enrollmentId + 99, SHA)).toThrow(/FOREIGN KEY/);
    expect(() => member.run('nobody', enrollmentId, SHA)).toThrow(/FOREIGN KEY/);

    db.prepare(`DELETE FROM bundles WHERE id = 'b1'`).run();
    expect(db.prepare('SELECT count(*) FROM bundle_enrollments').pluck().get()).toBe(0);
    db.close();
  });
});
