import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../stationDatabase.js';
import { migration001Certificates } from './001_certificates.js';
import { migration002Provisioning } from './002_provisioning.js';

let db: Database.Database;

beforeEach(() => {
  db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, [migration001Certificates, migration002Provisioning]);
});
afterEach(() => db.close());

const T = '2026-03-01T10:00:00.000Z';

function device(serial = 'SN1'): number {
  return Number(
    db
      .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm1', ?)`)
      .run(serial, T).lastInsertRowid,
  );
}

function run(): number {
  return Number(
    db.prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('p', 'x', ?)`).run(T)
      .lastInsertRowid,
  );
}

function enrollment(registrationId: string, status = 'pending', attestation = 'tpm'): number {
  const sql = `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body,
    status, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)`;
  return Number(
    db.prepare(sql).run(registrationId, device(`SN-${run()}`), run(), attestation, status, T, T)
      .lastInsertRowid,
  );
}

describe('migration 002: provisioning', () => {
  it('creates STRICT tables for devices, runs, enrollments and audit events', () => {
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const tables = db.prepare(`SELECT name, strict FROM pragma_table_list WHERE schema = 'main'`);
    const strict = Object.fromEntries(
      (tables.all() as { name: string; strict: number }[]).map((t) => [t.name, t.strict]),
    );
    expect(strict).toMatchObject({ devices: 1, runs: 1, enrollments: 1, audit_events: 1 });
    // STRICT refuses a value of the wrong type instead of storing it.
    const id = enrollment('r0');
    expect(() =>
      db.prepare(`UPDATE enrollments SET attempts = 'many' WHERE id = ?`).run(id),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
  });

  it('keeps one device per serial number and model', () => {
    device('A');
    expect(() => device('A')).toThrow(/UNIQUE/);
    db.prepare(
      `INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('A', 'm2', ?)`,
    ).run(T);
  });

  it('checks run states and what a finished run must carry', () => {
    const id = run();
    const set = (sql: string) => () => db.prepare(`UPDATE runs SET ${sql} WHERE id = ?`).run(id);
    expect(set(`state = 'lost', finished_at = 'x'`)).toThrow(/CHECK/);
    expect(set(`state = 'fail'`)).toThrow(/CHECK/); // no finished_at
    expect(set(`state = 'fail', finished_at = 'x'`)).toThrow(/CHECK/); // no error_code
    expect(set(`state = 'pass', finished_at = 'x'`)).toThrow(/CHECK/); // no device
    expect(set(`steps = 'not json'`)).toThrow(/CHECK/);
    expect(set(`device_id = 999`)).toThrow(/FOREIGN KEY/);
    expect(set(`certificate_serial = 'ff'`)).toThrow(/FOREIGN KEY/);
    set(`state = 'fail', finished_at = 'x', error_code = 'E'`)();
  });

  it('checks enrollment attestation, status, body and the run it belongs to', () => {
    expect(() => enrollment('r1', 'pending', 'password')).toThrow(/CHECK/);
    expect(() => enrollment('r2', 'lost')).toThrow(/CHECK/);
    const id = enrollment('r3');
    const set = (sql: string) => () =>
      db.prepare(`UPDATE enrollments SET ${sql} WHERE id = ?`).run(id);
    expect(set(`body = '{'`)).toThrow(/CHECK/);
    expect(set(`run_id = 999`)).toThrow(/FOREIGN KEY/);
    expect(set(`superseded_by = ${id}`)).toThrow(/CHECK/); // not superseded, and not itself
    expect(set(`status = 'superseded', superseded_by = 999`)).toThrow(/FOREIGN KEY/);
    const runId = db.prepare(`SELECT run_id FROM enrollments WHERE id = ?`).pluck().get(id);
    expect(() =>
      db
        .prepare(
          `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body,
          created_at, updated_at) SELECT 'r4', device_id, run_id, 'tpm', '{}', ?, ? FROM enrollments
          WHERE run_id = ?`,
        )
        .run(T, T, runId),
    ).toThrow(/UNIQUE constraint failed: enrollments.run_id/);
  });

  it('allows one live enrollment per registration ID, and any number superseded', () => {
    const first = enrollment('dev-1');
    expect(() => enrollment('dev-1')).toThrow(
      /UNIQUE constraint failed: enrollments.registration_id/,
    );
    expect(() => enrollment('dev-1', 'failed')).toThrow(/UNIQUE/);
    db.prepare(`UPDATE enrollments SET status = 'superseded' WHERE id = ?`).run(first);
    const second = enrollment('dev-1', 'synced');
    db.prepare(`UPDATE enrollments SET status = 'superseded', superseded_by = ? WHERE id = ?`).run(
      second,
      first,
    );
    db.prepare(`UPDATE enrollments SET status = 'superseded' WHERE id = ?`).run(second);
    enrollment('dev-1', 'conflict');
    expect(
      db.prepare(`SELECT count(*) FROM enrollments WHERE registration_id = 'dev-1'`).pluck().get(),
    ).toBe(3);
  });

  it('keeps the audit trail append-only', () => {
    const append = db.prepare(`INSERT INTO audit_events (id, at, actor, kind, subject, detail)
      VALUES (?, ?, ?, 'k', 's', ?)`);
    append.run(null, T, 'station', '{}');
    append.run(null, T, 'operator:ann', '{"n":1}');
    append.run(null, T, 'supervisor:bo', '{}');
    for (const actor of ['operator:', 'Station', 'root', 'Supervisor:bo']) {
      expect(() => append.run(null, T, actor, '{}')).toThrow(/CHECK/);
    }
    expect(() => append.run(null, T, 'station', 'not json')).toThrow(/CHECK/);
    expect(() => db.prepare(`UPDATE audit_events SET kind = 'x' WHERE id = 1`).run()).toThrow(
      /append-only/,
    );
    expect(() => db.prepare(`DELETE FROM audit_events WHERE id = 2`).run()).toThrow(/append-only/);
    // REPLACE would delete the old row without firing the DELETE trigger.
    expect(() =>
      db
        .prepare(
          `INSERT OR REPLACE INTO audit_events (id, at, actor, kind, subject)
      VALUES (1, ?, 'station', 'forged', 's')`,
        )
        .run(T),
    ).toThrow(/append-only/);
    expect(() =>
      db
        .prepare(
          `INSERT INTO audit_events (id, at, actor, kind, subject) VALUES (3, ?, 'station',
          'k', 's') ON CONFLICT (id) DO UPDATE SET kind = 'forged'`,
        )
        .run(T),
    ).toThrow(/append-only/);
    expect(db.prepare(`SELECT id, kind, detail FROM audit_events ORDER BY id`).all()).toEqual([
      { id: 1, kind: 'k', detail: '{}' },
      { id: 2, kind: 'k', detail: '{"n":1}' },
      { id: 3, kind: 'k', detail: '{}' },
    ]);
  });
});
