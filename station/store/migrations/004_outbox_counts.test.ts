import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../firmware-bridge/simulator/seededRandom.js';
import { ENROLLMENT_STATUSES, OutboxListing, type EnrollmentStatus } from '../outboxListing.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-004-');

const T0 = '2026-03-01T10:00:00.000Z';
type Counts = Record<EnrollmentStatus, number>;

/** Inserts an enrollment with its own device and run, as a PASS does; returns its id. */
function insertEnrollment(db: Database.Database, registrationId: string, status = 'pending') {
  const run = db
    .prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('p', 'x', ?)`)
    .run(T0).lastInsertRowid;
  const device = db
    .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`)
    .run(`SN-${run}`, T0).lastInsertRowid;
  return Number(
    db
      .prepare(
        `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body, status,
          created_at, updated_at) VALUES (?, ?, ?, 'tpm', '{}', ?, ?, ?)`,
      )
      .run(registrationId, device, run, status, T0, T0).lastInsertRowid,
  );
}

const zero = (): Counts =>
  Object.fromEntries(ENROLLMENT_STATUSES.map((s) => [s, 0])) as unknown as Counts;

/** What a full scan says: the truth the counters must equal. */
function groupByTruth(db: Database.Database): Counts {
  const counts = zero();
  const rows = db.prepare(`SELECT status, count(*) AS n FROM enrollments GROUP BY status`).all();
  for (const row of rows as { status: EnrollmentStatus; n: number }[]) counts[row.status] = row.n;
  return counts;
}

function counters(db: Database.Database): Counts {
  const counts = zero();
  for (const row of db.prepare(`SELECT status, n FROM outbox_counts`).all() as {
    status: EnrollmentStatus;
    n: number;
  }[]) {
    counts[row.status] = row.n;
  }
  return counts;
}

/** The counters, and what OutboxListing shows from them, equal a fresh GROUP BY. */
function expectExact(db: Database.Database, step: string): void {
  const truth = groupByTruth(db);
  expect(counters(db), step).toEqual(truth);
  const { superseded: _history, ...live } = truth;
  expect(new OutboxListing(db).counts(), step).toEqual(live);
}

/** A version-3 database file: several enrollments in every status, one superseded by another. */
function version3Database(): Counts {
  const db = new Database(databaseFile());
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.slice(0, 3));
  const wanted: Counts = {
    pending: 3,
    syncing: 1,
    synced: 4,
    failed: 2,
    conflict: 1,
    superseded: 2,
  };
  for (const status of ENROLLMENT_STATUSES) {
    for (let i = 0; i < wanted[status]; i++) insertEnrollment(db, `dev-${status}-${i}`, status);
  }
  const successor = insertEnrollment(db, 'dev-superseded-0', 'pending');
  db.prepare(
    `UPDATE enrollments SET superseded_by = ? WHERE registration_id = 'dev-superseded-0'
      AND status = 'superseded'`,
  ).run(successor);
  wanted.pending += 1;
  db.close();
  return wanted;
}

describe('migration 004: outbox counts', () => {
  it('counts the rows a version-3 station recorded', () => {
    const wanted = version3Database();
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(counters(db)).toEqual(wanted);
    expectExact(db, 'after migration');
    db.close();
  });

  it('stays exact through the outbox life of an enrollment', () => {
    version3Database();
    const db = openStationDatabase(databaseFile());
    const setStatus = db.prepare(`UPDATE enrollments SET status = ? WHERE id = ?`);
    const a = insertEnrollment(db, 'life-a');
    expectExact(db, 'insert');
    for (const status of ['syncing', 'synced']) {
      setStatus.run(status, a);
      expectExact(db, `a -> ${status}`);
    }
    const b = insertEnrollment(db, 'life-b');
    for (const status of ['syncing', 'failed', 'pending', 'syncing', 'conflict', 'pending']) {
      setStatus.run(status, b);
      expectExact(db, `b -> ${status}`);
    }
    // Other columns, and a status set to what it was, leave the counters alone.
    db.prepare(`UPDATE enrollments SET attempts = attempts + 1, status = status`).run();
    expectExact(db, 'no status change');
    // Requeue many at once: the trigger runs per row.
    db.prepare(
      `UPDATE enrollments SET status = 'pending' WHERE status IN ('failed', 'conflict')`,
    ).run();
    expectExact(db, 'requeue all');
    // Re-provisioning: the earlier enrollment becomes history, its successor is pending.
    setStatus.run('superseded', a);
    const c = insertEnrollment(db, 'life-a');
    expectExact(db, 'supersede');
    // A refused statement (a second live row for one registration ID) changes no counter.
    expect(() => insertEnrollment(db, 'life-a')).toThrow(/UNIQUE/);
    expect(() => setStatus.run('pending', a)).toThrow(/UNIQUE/);
    expectExact(db, 'refused');
    db.prepare(`UPDATE enrollments SET superseded_by = ? WHERE id = ?`).run(c, a);
    db.prepare(`DELETE FROM enrollments WHERE id = ?`).run(b);
    db.prepare(`UPDATE enrollments SET superseded_by = NULL WHERE superseded_by IS NOT NULL`).run();
    db.prepare(`DELETE FROM enrollments WHERE status IN ('superseded', 'synced')`).run();
    expectExact(db, 'delete');
    db.close();
  });

  it('stays exact through REPLACE conflict resolutions on a station connection', () => {
    const db = openStationDatabase(databaseFile());
    const a = insertEnrollment(db, 'replace-a');
    const b = insertEnrollment(db, 'replace-b', 'synced');
    const row = db.prepare(`SELECT * FROM enrollments WHERE id = ?`);
    const { id: _id, ...columns } = row.get(a) as Record<string, unknown>;
    // INSERT OR REPLACE onto an existing id: the pending row goes, a failed one takes its place.
    db.prepare(
      `INSERT OR REPLACE INTO enrollments (id, ${Object.keys(columns).join(', ')})
        VALUES (@id, ${Object.keys(columns)
          .map((c) => `@${c}`)
          .join(', ')})`,
    ).run({ ...columns, id: a, status: 'failed' });
    expectExact(db, 'insert or replace');
    // UPDATE OR REPLACE into the live registration ID of another row displaces that row.
    db.prepare(
      `UPDATE OR REPLACE enrollments SET registration_id = 'replace-a', status = 'pending'
        WHERE id = ?`,
    ).run(b);
    expect(row.get(a)).toBeUndefined();
    expectExact(db, 'update or replace');
    db.close();
  });

  it('matches GROUP BY after a seeded random run of 2,000 changes', () => {
    const db = openStationDatabase(databaseFile());
    const random = mulberry32(0x5eed_0004);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const ids = () => db.prepare(`SELECT id FROM enrollments`).pluck().all() as number[];
    const done = { insert: 0, update: 0, bulk: 0, delete: 0, refused: 0 };
    for (let step = 1; step <= 2_000; step++) {
      const roll = random();
      const existing = ids();
      try {
        if (roll < 0.35 || existing.length === 0) {
          // A small pool of registration IDs makes some inserts collide with a live row.
          insertEnrollment(db, `r${Math.floor(random() * 150)}`, pick(ENROLLMENT_STATUSES));
          done.insert++;
        } else if (roll < 0.8) {
          db.prepare(`UPDATE enrollments SET status = ? WHERE id = ?`).run(
            pick(ENROLLMENT_STATUSES),
            pick(existing),
          );
          done.update++;
        } else if (roll < 0.85) {
          db.prepare(`UPDATE enrollments SET status = ? WHERE status = ?`).run(
            pick(ENROLLMENT_STATUSES),
            pick(ENROLLMENT_STATUSES),
          );
          done.bulk++;
        } else {
          db.prepare(`DELETE FROM enrollments WHERE id = ?`).run(pick(existing));
          done.delete++;
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
        done.refused++;
      }
      if (step % 250 === 0) expectExact(db, `step ${step}`);
    }
    expectExact(db, 'end');
    // Every kind of change happened often enough to matter.
    for (const [kind, n] of Object.entries(done)) expect(n, kind).toBeGreaterThan(20);
    db.close();
  });

  it('reads the counters without scanning enrollments', () => {
    const statements: string[] = [];
    openStationDatabase(databaseFile()).close();
    const db = new Database(databaseFile(), { verbose: (sql) => statements.push(String(sql)) });
    const listing = new OutboxListing(db);
    statements.length = 0;
    listing.counts();
    expect(statements).toHaveLength(1);
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${statements[0]}`).all() as { detail: string }[];
    const text = plan.map((p) => p.detail).join('\n');
    expect(text).toMatch(/outbox_counts/);
    expect(text).not.toMatch(/enrollments/);
    db.close();
  });
});
