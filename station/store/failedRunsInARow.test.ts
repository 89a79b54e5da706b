import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunStarter } from '../line/runRecorder.js';
import { prepareProvisioningStatements } from './provisioningStatements.js';
import { ProvisioningStore } from './provisioningStore.js';
import { openStationDatabase } from './stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;
let db: Database.Database;
let store: ProvisioningStore;
beforeEach(() => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db, { now: () => new Date(NOW) });
});
afterEach(() => db.close());

/** A run of `serial` (LS-100) on `port` that ended as `state`, `minutesAgo`. */
function run(
  state: 'fail' | 'cancelled' | 'pass',
  minutesAgo: number,
  port = '/dev/ttyUSB1',
  serial = 'SN-1',
  startedBy: RunStarter = 'auto',
) {
  const runId = store.beginRun(port, 'line7', NOW - minutesAgo * MINUTE, startedBy);
  if (state === 'pass') {
    recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`);
    store.commitPass(passedRun(runId, serial, { registrationId: `reg-${runId}` }));
  } else {
    store.recordFailure(runId, {
      state,
      error: { code: state === 'fail' ? 'WIRE_TIMEOUT' : 'RUN_CANCELLED', message: 'x' },
      device: { serialNumber: serial, model: 'LS-100' },
      steps: [],
      finishedAt: NOW - minutesAgo * MINUTE + 1_000,
    });
  }
  return runId;
}

/** A run on the port that ended as `state` with `code` before any device said who it is. */
function quiet(
  state: 'fail' | 'cancelled',
  minutesAgo: number,
  code: string,
  startedBy: RunStarter,
): void {
  const runId = store.beginRun('/dev/ttyUSB1', 'line7', NOW - minutesAgo * MINUTE, startedBy);
  store.recordFailure(runId, {
    state,
    error: { code, message: 'x' },
    steps: [],
    finishedAt: NOW - minutesAgo * MINUTE + 1_000,
  });
}

const inARow = (beforeRunId: number, sinceMinutesAgo = 15, port = '/dev/ttyUSB1', limit = 10) =>
  store.failedRunsInARow({
    serialNumber: 'SN-1',
    model: 'LS-100',
    port,
    beforeRunId,
    sinceMs: NOW - sinceMinutesAgo * MINUTE,
    limit,
  });

describe('ProvisioningStore.failedRunsInARow', () => {
  it('counts the failures before a run back to the last PASS or cancel, on that port only', () => {
    run('fail', 9);
    run('pass', 8);
    run('fail', 7);
    run('fail', 6, '/dev/ttyUSB2');
    run('fail', 5);
    const current = run('fail', 1);
    expect(inARow(current)).toBe(2);
    expect(inARow(current, 15, '/dev/ttyUSB2')).toBe(1);
    run('cancelled', 0.5);
    expect(inARow(run('fail', 0))).toBe(0);
  });

  it("counts back to the operator's start and no further, as the slot's own count does", () => {
    run('fail', 9);
    run('fail', 8);
    run('fail', 7);
    // Provision pressed on the held slot: that run and those after it are the new streak.
    run('fail', 5, '/dev/ttyUSB1', 'SN-1', 'operator');
    run('fail', 4);
    expect(inARow(run('fail', 1))).toBe(2);
  });

  it("stops at another device's run on the port, as the slot's own count does", () => {
    run('fail', 6);
    run('fail', 5);
    run('pass', 4, '/dev/ttyUSB1', 'SN-2');
    expect(inARow(run('fail', 1))).toBe(0);
    run('fail', 0.8, '/dev/ttyUSB1', 'SN-3');
    expect(inARow(run('fail', 0.5))).toBe(0);
  });

  it("skips a run the station's own stop ended: it says nothing of the device", () => {
    run('fail', 6);
    const stopped = store.beginRun('/dev/ttyUSB1', 'line7', NOW - 5 * MINUTE);
    store.recordFailure(stopped, {
      state: 'cancelled',
      error: { code: 'RUN_INTERRUPTED', message: 'x' },
      device: { serialNumber: 'SN-1', model: 'LS-100' },
      steps: [],
      finishedAt: NOW - 5 * MINUTE + 1_000,
    });
    expect(inARow(run('fail', 1))).toBe(1);
  });

  it("skips a board's failure that was the station's fault (disk full, CA locked), as the slot does", () => {
    run('fail', 6);
    for (const [minutesAgo, code] of [
      [5, 'STORE_WRITE_FAILED'],
      [4, 'CA_LOCKED'],
    ] as const) {
      const runId = store.beginRun('/dev/ttyUSB1', 'line7', NOW - minutesAgo * MINUTE);
      store.recordFailure(runId, {
        state: 'fail',
        error: { code, message: 'x' },
        device: { serialNumber: 'SN-1', model: 'LS-100' },
        steps: [],
        finishedAt: NOW - minutesAgo * MINUTE + 1_000,
      });
    }
    // The failure at 6 minutes only: the station's faults between neither count nor end it.
    expect(inARow(run('fail', 1))).toBe(1);
  });

  it('skips a failure before the device said who it is, but not a cancel', () => {
    run('fail', 6);
    quiet('fail', 5, 'WIRE_TIMEOUT', 'auto');
    expect(inARow(run('fail', 4))).toBe(1);
    quiet('cancelled', 3, 'RUN_CANCELLED', 'operator');
    expect(inARow(run('fail', 1))).toBe(0);
  });

  it("ends at the operator's start even when that run named no device or was cut off", () => {
    run('fail', 9);
    run('fail', 8);
    quiet('fail', 7, 'WIRE_TIMEOUT', 'operator');
    expect(inARow(run('fail', 6))).toBe(0);
    run('fail', 5);
    quiet('fail', 4, 'RUN_INTERRUPTED', 'operator');
    expect(inARow(run('fail', 1))).toBe(0);
  });

  it('counts within the window and up to the limit only', () => {
    run('fail', 30);
    run('fail', 20);
    run('fail', 3);
    const current = run('fail', 1);
    expect(inARow(current)).toBe(1);
    expect(inARow(current, 60)).toBe(3);
    expect(inARow(current, 60, '/dev/ttyUSB1', 2)).toBe(2);
  });

  it('reads the window through the start-time index, not back through every run by id', () => {
    const { source } = prepareProvisioningStatements(db).latestRunsOnPort;
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${source}`)
      .all('/dev/ttyUSB1', 10, new Date(NOW).toISOString()) as { detail: string }[];
    expect(plan.map((row) => row.detail).join('\n')).toContain('runs_by_started_at');
  });
});
