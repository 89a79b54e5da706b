import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OPEN_RUNS_SQL } from '../interruptedRuns.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { RUNS_BY_STATE_SQL, runListQuery, type RunFilter } from '../runHistory.js';
import { migrate, openStationDatabase } from '../stationDatabase.js';
import { expectLatestSchema, useMigrationTestFile } from '../testing/migrationTestFile.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-013-');

const RUNS = 20_000;
const DEVICES = 100;
const T0 = Date.UTC(2026, 0, 5, 6);

/** A run as the version-12 file holds it; ids are dense from 1, in insertion order. */
interface SeededRun {
  id: number;
  state: 'pass' | 'fail';
  port: string;
  serialNumber: string;
  startedAt: string;
}

/** The i-th run: a minute apart, on four ports, every tenth failed, none cancelled. */
function seededRun(i: number): SeededRun {
  return {
    id: i + 1,
    state: i % 10 === 0 ? 'fail' : 'pass',
    port: `/dev/ttyUSB${i % 4}`,
    serialNumber: serial(i % DEVICES),
    startedAt: new Date(T0 + i * 60_000).toISOString(),
  };
}

function serial(device: number): string {
  return `SN-${String(device).padStart(3, '0')}`;
}

const seeded = Array.from({ length: RUNS }, (_, i) => seededRun(i));

/** The plan SQLite makes of the store's own list statement for `filter`. */
function planOf(db: Database.Database, filter: RunFilter): string[] {
  const { sql, params } = runListQuery(filter);
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  return plan.map((row) => row.detail);
}

/** What `list` must return for `filter`, worked out from the seeded runs rather than by SQL. */
function expectedIds(filter: RunFilter & { state: 'pass' | 'fail' }): number[] {
  const matching = seeded.filter(
    (run) =>
      run.state === filter.state &&
      (filter.port === undefined || run.port === filter.port) &&
      (filter.serialNumber === undefined || run.serialNumber === filter.serialNumber) &&
      (filter.since === undefined || run.startedAt >= filter.since),
  );
  // Start times rise with the id here, so both of the list's orders are newest id first.
  return matching
    .map((run) => run.id)
    .reverse()
    .slice(0, filter.limit ?? 50);
}

/** A version-12 file with RUNS ended runs of DEVICES devices; its state filter reads them all. */
function version12Database(): void {
  const db = new Database(databaseFile());
  migrate(db, migrations.slice(0, 12));
  const device = db.prepare(
    `INSERT INTO devices (id, serial_number, model, first_seen_at) VALUES (?, ?, 'LS-100', ?)`,
  );
  const run = db.prepare(`INSERT INTO runs (id, port, profile, device_id, registration_id, state,
    error_code, started_at, finished_at) VALUES (?, ?, 'line7', ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (let d = 0; d < DEVICES; d++) device.run(d + 1, serial(d), seeded[0]!.startedAt);
    for (const [i, r] of seeded.entries()) {
      const failed = r.state === 'fail';
      run.run(
        r.id,
        r.port,
        (i % DEVICES) + 1,
        `ls-${r.serialNumber.toLowerCase()}`,
        r.state,
        failed ? 'WIRE_TIMEOUT' : null,
        r.startedAt,
        r.startedAt,
      );
    }
  })();
  // Planned with the columns a version-12 file has: the list's own reads later migrations' too.
  const { sql, params } = runListQuery({ state: 'cancelled' });
  const version12Sql = sql.replace(/^SELECT [\s\S]*? FROM runs r/, 'SELECT r.id FROM runs r');
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${version12Sql}`).all(...params);
  expect(JSON.stringify(plan)).toContain('SCAN r');
  db.close();
}

describe('migration 013: runs by state', () => {
  it('indexes the runs of a version-12 file, once, after 012', () => {
    version12Database();
    let db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(migrations[12]).toMatchObject({ version: 13, name: 'runs_by_state' });
    const columns = db.prepare(
      `SELECT name FROM pragma_index_info('runs_by_state') ORDER BY seqno`,
    );
    expect(columns.pluck().all()).toEqual(['state', 'id']);
    expect(db.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(RUNS);
    db.close();

    // Opened again, and migrated again by hand: the version says it is done, nothing runs twice.
    db = openStationDatabase(databaseFile());
    expect(migrate(db, migrations)).toBe(migrations.length);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const indexes = db.prepare(
      `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'runs_by_state'`,
    );
    expect(indexes.pluck().get()).toBe(1);
    db.close();
  });

  it('finds no run in a state none is in by seeking the index, not by reading every run', () => {
    version12Database();
    const db = openStationDatabase(databaseFile());
    const store = new ProvisioningStore(db);

    expect(store.runs({ state: 'cancelled' })).toEqual([]);
    const plan = planOf(db, { state: 'cancelled' });
    expect(plan).toContainEqual(
      expect.stringMatching(/^SEARCH r USING INDEX runs_by_state \(state=\?\)$/),
    );
    expect(plan).not.toContainEqual(expect.stringMatching(/^SCAN r\b/));
    expect(plan.join('\n')).not.toContain('TEMP B-TREE');

    // The runs it does find come straight off the index in the list's order, a port's too.
    expect(store.runs({ state: 'fail' }).map((r) => r.id)).toEqual(expectedIds({ state: 'fail' }));
    const onPort = { state: 'fail', port: '/dev/ttyUSB2', limit: 7 } as const;
    expect(store.runs(onPort).map((r) => r.id)).toEqual(expectedIds(onPort));
    expect(store.runs({ state: 'cancelled', port: '/dev/ttyUSB2' })).toEqual([]);
    const portPlan = planOf(db, onPort);
    expect(portPlan).toContainEqual(expect.stringContaining('USING INDEX runs_by_state (state=?)'));
    expect(portPlan.join('\n')).not.toMatch(/^SCAN r\b|TEMP B-TREE/m);
    db.close();
  });

  it('keeps a device or a window on its own index, and the other reads of runs on theirs', () => {
    version12Database();
    const db = openStationDatabase(databaseFile());
    const store = new ProvisioningStore(db);

    // A device's runs are few: its index, not every failed run, whatever the state.
    const device = { state: 'fail', serialNumber: 'SN-007' } as const;
    expect(store.runs(device)).toEqual([]);
    const reworked = { state: 'pass', serialNumber: 'SN-007', port: '/dev/ttyUSB3' } as const;
    expect(store.runs(reworked).map((r) => r.id)).toEqual(expectedIds(reworked));
    for (const filter of [device, reworked]) {
      const plan = planOf(db, filter).join('\n');
      expect(plan).toContain('sqlite_autoindex_devices_1 (serial_number=?)');
      expect(plan).toContain('runs_by_device (device_id=?)');
      expect(plan).not.toContain('runs_by_state');
    }

    // A window bounds the read; most runs pass, so the state would not.
    const since = seeded[RUNS - 120]!.startedAt;
    const window = { state: 'pass', since } as const;
    expect(store.runs(window).map((r) => r.id)).toEqual(expectedIds(window));
    expect(store.runs({ state: 'cancelled', since })).toEqual([]);
    const windowOnPort = { state: 'fail', port: '/dev/ttyUSB0', since, limit: 5 } as const;
    expect(store.runs(windowOnPort).map((r) => r.id)).toEqual(expectedIds(windowOnPort));
    for (const filter of [window, windowOnPort]) {
      const plan = planOf(db, filter).join('\n');
      expect(plan).toContain('SEARCH r USING INDEX runs_by_started_at (started_at>?)');
      expect(plan).not.toMatch(/runs_by_state|TEMP B-TREE/);
    }

    const stats = db.prepare(`EXPLAIN QUERY PLAN ${RUNS_BY_STATE_SQL}`).all({ since, port: null });
    expect(JSON.stringify(stats)).toContain('runs_by_started_at');
    // Open runs: only they are read, in id order, through either index that holds them.
    const open = JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${OPEN_RUNS_SQL}`).all());
    expect(open).toMatch(/USING INDEX (runs_open|runs_by_state \(state=\?\))/);
    expect(open).not.toMatch(/TEMP B-TREE/);
    expect(store.runStats(since).byState).toEqual({
      running: 0,
      pass: 108,
      fail: 12,
      cancelled: 0,
    });
    db.close();
  });
});
