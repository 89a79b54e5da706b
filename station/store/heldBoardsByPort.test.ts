/**
 * Which boards a restarted line holds again (heldBoardsByPort): read from the runs a real SQLite
 * store recorded, counted as the slot counts a board's failures in a row.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunStarter } from '../line/runRecorder.js';
import { ProvisioningStore } from './provisioningStore.js';
import { closeStationDatabase, openStationDatabase } from './stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
let db: Database.Database;
let store: ProvisioningStore;
beforeEach(() => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db, { now: () => new Date(NOW) });
});
afterEach(() => db.close());

/** A run on `port` that ended as `state`; `serial` null: the board never said who it is. */
function run(
  port: string,
  state: 'fail' | 'cancelled' | 'pass',
  serial: string | null = 'SN-1',
  options: { startedBy?: RunStarter; code?: string } = {},
): number {
  const runId = store.beginRun(port, 'line7', NOW, options.startedBy ?? 'auto');
  if (state === 'pass') {
    recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`);
    store.commitPass(passedRun(runId, serial ?? 'SN-1', { registrationId: `reg-${runId}` }));
    return runId;
  }
  store.recordFailure(runId, {
    state,
    error: { code: options.code ?? 'WIRE_TIMEOUT', message: `run ${runId} failed`, detail: 'd' },
    ...(serial !== null && { device: { serialNumber: serial, model: 'LS-100' } }),
    registrationId: `reg-${runId}`,
    steps: [],
    finishedAt: NOW + 1_000,
  });
  return runId;
}

const heldPorts = () => store.heldBoardsByPort(3).map((hold) => hold.port);

describe('heldBoardsByPort', () => {
  it("names a port's board with its failures in a row and its latest failure", () => {
    run('/dev/ttyUSB0', 'pass', 'SN-0');
    run('/dev/ttyUSB1', 'pass');
    for (let i = 0; i < 3; i++) run('/dev/ttyUSB1', 'fail');
    const latest = run('/dev/ttyUSB1', 'fail');
    run('/dev/ttyUSB1', 'fail', null); // dropped before it said who it is: counts nothing
    expect(store.heldBoardsByPort(3)).toEqual([
      {
        port: '/dev/ttyUSB1',
        serialNumber: 'SN-1',
        model: 'LS-100',
        failures: 4,
        runId: latest,
        registrationId: `reg-${latest}`,
        error: { code: 'WIRE_TIMEOUT', message: `run ${latest} failed`, detail: 'd' },
      },
    ]);
  });

  it('names none when fewer failed, a PASS or a cancel came between, or the operator started one', () => {
    run('/dev/ttyUSB1', 'fail');
    run('/dev/ttyUSB1', 'fail');
    run('/dev/ttyUSB2', 'fail');
    run('/dev/ttyUSB2', 'pass');
    run('/dev/ttyUSB2', 'fail');
    run('/dev/ttyUSB2', 'fail');
    run('/dev/ttyUSB3', 'fail');
    run('/dev/ttyUSB3', 'cancelled');
    run('/dev/ttyUSB3', 'fail');
    run('/dev/ttyUSB3', 'fail');
    run('/dev/ttyUSB4', 'fail');
    run('/dev/ttyUSB4', 'fail');
    run('/dev/ttyUSB4', 'fail', 'SN-1', { startedBy: 'operator' });
    expect(heldPorts()).toEqual([]);
    run('/dev/ttyUSB1', 'fail');
    expect(heldPorts()).toEqual(['/dev/ttyUSB1']);
  });

  it('names none when another board was the last one named on the port', () => {
    for (let i = 0; i < 3; i++) run('/dev/ttyUSB1', 'fail');
    // The held board was swapped, and the stop cut the other board's run short.
    run('/dev/ttyUSB1', 'cancelled', 'SN-2', { code: 'RUN_INTERRUPTED' });
    expect(heldPorts()).toEqual([]);
  });
});

describe('heldBoardsByPort across restarts', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** The station started at `start` (HH:MM) on the database file: its own process, its clock. */
  const at = (hhmm: string) => Date.parse(`2026-03-01T${hhmm}:00.000Z`);
  function stationStartedAt(file: Database.Database, start: string) {
    const token = `station-${start}`;
    const started = new ProvisioningStore(file, {
      now: () => new Date(at(start)),
      owner: { host: 'line7-ws', pid: 4000, token },
    });
    /** A run of board SN-1 on ttyUSB1 at `hhmm` that failed a second later. */
    return (hhmm: string) => {
      const runId = started.beginRun('/dev/ttyUSB1', 'line7', at(hhmm), 'auto');
      started.recordFailure(runId, {
        state: 'fail',
        error: { code: 'WIRE_TIMEOUT', message: 'no answer' },
        device: { serialNumber: 'SN-1', model: 'LS-100' },
        steps: [],
        finishedAt: at(hhmm) + 1_000,
      });
    };
  }

  it('holds a board only as its slot counted it: failures older than the window before a start do not chain', async () => {
    dir = await mkdtemp(join(tmpdir(), 'held-boards-'));
    const file = openStationDatabase(join(dir, 'station.db'));
    try {
      const held = () => new ProvisioningStore(file).heldBoardsByPort(3);
      // 08:00: two failures; the 09:00 station's slot asked at its first failure for those
      // since 08:45, found none and counted 1. Not held at 09:05, as at 09:00's stop.
      const first = stationStartedAt(file, '08:00');
      first('08:00');
      first('08:01');
      stationStartedAt(file, '09:00')('09:00');
      expect(held()).toEqual([]);

      // 09:06: the slot's first failure finds 09:00's within the window, not 08:00's: 2.
      stationStartedAt(file, '09:05')('09:06');
      expect(held()).toEqual([]);
      // 09:10: both are within it: 2 + 1, held.
      stationStartedAt(file, '09:10')('09:10');
      expect(held()).toMatchObject([{ port: '/dev/ttyUSB1', failures: 3 }]);
    } finally {
      closeStationDatabase(file);
    }
  });

  it('counts a station’s own failures in a row however far apart, as its slot did', async () => {
    dir = await mkdtemp(join(tmpdir(), 'held-boards-'));
    const file = openStationDatabase(join(dir, 'station.db'));
    try {
      const fail = stationStartedAt(file, '08:00');
      fail('08:00');
      fail('08:30');
      fail('09:30');
      expect(new ProvisioningStore(file).heldBoardsByPort(3)).toMatchObject([{ failures: 3 }]);
    } finally {
      closeStationDatabase(file);
    }
  });
});
