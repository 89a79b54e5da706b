import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore } from './outboxSyncStore.js';
import { SyncTestStation } from './testing/syncTestStation.js';

/*
 * The worker claims and asks for due rows on the station's event loop, which also runs the
 * line, while the outbox may hold a backlog of 100,000 pending rows. Timing is no test here:
 * these check the query plans of the statements the store actually runs.
 */

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const EARLIER = '2026-03-01T11:00:00.000Z';
const LATER = '2026-03-01T13:00:00.000Z';
/** More waiting rows than the claim reads in id order before it asks the index. */
const BACKLOG = 1500;

interface Ran {
  source: string;
  params: unknown[];
}

let station: SyncTestStation;
let ran: Ran[];
let store: OutboxSyncStore;

beforeEach(() => {
  station = new SyncTestStation();
  ran = [];
  store = new OutboxSyncStore(recording(station.db), () => NOW);
});
afterEach(() => station.close());

/** The same connection, noting the source and parameters of every statement it runs. */
function recording(db: Database.Database): Database.Database {
  const prepare = db.prepare.bind(db);
  const watched = (source: string): Database.Statement => {
    const statement = prepare(source);
    for (const method of ['all', 'get', 'run'] as const) {
      const original = statement[method].bind(statement) as (...params: unknown[]) => unknown;
      Object.defineProperty(statement, method, {
        value: (...params: unknown[]) => {
          ran.push({ source, params });
          return original(...params);
        },
      });
    }
    return statement;
  };
  Object.defineProperty(db, 'prepare', { value: watched });
  return db;
}

/** Pending rows, one per retry time given (NULL: never tried); returns their ids. */
function pendingRows(times: (string | null)[]): number[] {
  const db = station.db;
  const device = db
    .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES (?, 'm', ?)`)
    .run(`SN-${times.length}-${Math.random()}`, EARLIER).lastInsertRowid;
  const run = db.prepare(`INSERT INTO runs (port, profile, started_at) VALUES ('p', 'x', ?)`);
  const enroll = db.prepare(`INSERT INTO enrollments (registration_id, device_id, run_id,
      attestation, body, created_at, updated_at, next_attempt_at)
    VALUES (?, ?, ?, 'tpm', '{}', ?, ?, ?)`);
  return db.transaction(() =>
    times.map((at) => {
      const runId = run.run(EARLIER).lastInsertRowid;
      const reg = `reg-${runId}`;
      return Number(enroll.run(reg, device, runId, EARLIER, EARLIER, at).lastInsertRowid);
    }),
  )();
}

/** The plan of every statement run on enrollments since `from`, one line per step. */
function plansSince(from: number): string[] {
  return ran
    .slice(from)
    .filter(
      (r) => /\bFROM enrollments\b/.test(r.source) && r.source.trimStart().startsWith('SELECT'),
    )
    .map((r) => {
      const steps = station.db.prepare(`EXPLAIN QUERY PLAN ${r.source}`).all(...r.params) as {
        id: number;
        parent: number;
        detail: string;
      }[];
      // A step inside a co-routine reads only what its LIMIT lets through.
      const bounded = new Set(
        steps.filter((s) => s.detail.startsWith('CO-ROUTINE')).map((s) => s.id),
      );
      return steps.map((s) => `${bounded.has(s.parent) ? 'bounded ' : ''}${s.detail}`).join('\n');
    });
}

/** Neither walks the table nor every pending row in id order. */
function expectNoWalk(plans: string[]): void {
  expect(plans.length).toBeGreaterThan(0);
  for (const plan of plans) {
    expect(plan).not.toMatch(/SCAN enrollments/);
    for (const line of plan.split('\n').filter((l) => l.includes('enrollments_by_status'))) {
      expect(line).toMatch(/^bounded /);
    }
  }
}

describe('OutboxSyncStore: due rows in a large backlog', () => {
  it('claims past a backlog that all waits without walking it, oldest due first', () => {
    pendingRows(Array<string>(BACKLOG).fill(LATER));
    const due = pendingRows([LATER, EARLIER, null, LATER, EARLIER, null]);
    const from = ran.length;
    expect(store.claim(10).map((row) => row.id)).toEqual([due[1], due[2], due[4], due[5]]);
    expectNoWalk(plansSince(from));
    expect(store.claim(10)).toEqual([]);
  });

  it('claims a fresh backlog of never-tried rows oldest first, reading only a few', () => {
    const fresh = pendingRows(Array<null>(BACKLOG).fill(null));
    const from = ran.length;
    expect(store.claim(10).map((row) => row.id)).toEqual(fresh.slice(0, 10));
    expectNoWalk(plansSince(from));
    expect(store.claim(10).map((row) => row.id)).toEqual(fresh.slice(10, 20));
  });

  it('claims rows whose retry time passed in id order, not in the order their time came', () => {
    // Past the waiting half, never-tried rows among retry times that passed latest-first.
    const minute = (i: number) => String(59 - (i % 60)).padStart(2, '0');
    const times = Array.from({ length: BACKLOG }, (_, i) =>
      i < BACKLOG / 2 ? LATER : i % 7 === 0 ? null : `2026-03-01T11:${minute(i)}:00.000Z`,
    );
    const ids = pendingRows(times);
    const due = ids.filter((_, i) => times[i] !== LATER);
    const from = ran.length;
    expect(store.claim(10).map((row) => row.id)).toEqual(due.slice(0, 10));
    expectNoWalk(plansSince(from));
  });

  it('tells whether any row is due through the pending-due index alone', () => {
    pendingRows(Array<string>(BACKLOG).fill(LATER));
    let from = ran.length;
    expect(store.hasDue()).toBe(false);
    const plans = plansSince(from);
    expectNoWalk(plans);
    expect(plans.join('\n')).not.toContain('enrollments_by_status');
    expect(plans.join('\n')).toContain('enrollments_pending_due');
    pendingRows([EARLIER]);
    expect(store.hasDue()).toBe(true);
    store.claim(10);
    pendingRows([null]);
    from = ran.length;
    expect(store.hasDue()).toBe(true);
    expectNoWalk(plansSince(from));
  });
});
