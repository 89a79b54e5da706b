/**
 * What a restarted line reads of its ports' last runs: a port whose latest ended run passed
 * with its enrollment live, and no other; read from the newest rows only, however long the
 * history.
 */
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAST_PASSES_BY_PORT_SQL, LAST_RUNS_WINDOW } from './lastPassesByPort.js';
import { ProvisioningStore } from './provisioningStore.js';
import { openStationDatabase } from './stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

let db: Database.Database;
let store: ProvisioningStore;
beforeEach(() => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db);
});
afterEach(() => db.close());

function pass(port: string, serial: string, supersedes?: Parameters<typeof store.commitPass>[1]) {
  const runId = store.beginRun(port, 'line7', Date.now(), 'auto');
  recordIssuedCertificate(db, `c-${runId}`, `reg-${serial.toLowerCase()}`);
  store.commitPass(passedRun(runId, serial, { port }), supersedes);
  return runId;
}

function fail(port: string) {
  store.recordFailure(store.beginRun(port, 'line7', Date.now(), 'auto'), {
    state: 'fail',
    error: { code: 'WIRE_TIMEOUT', message: 'no answer' },
    steps: [],
    finishedAt: Date.now(),
  });
}

describe("the ports' last passes", () => {
  it('names a port whose latest ended run passed, with its board, run and attestation', () => {
    const a = pass('/dev/ttyUSB0', 'SN-A');
    pass('/dev/ttyUSB1', 'SN-B');
    fail('/dev/ttyUSB1'); // a later failure: the board there now is not known to hold a PASS
    store.beginRun('/dev/ttyUSB0', 'line7', Date.now(), 'auto'); // still running: not ended

    expect(store.lastPassesByPort()).toEqual([
      {
        port: '/dev/ttyUSB0',
        runId: a,
        serialNumber: 'SN-A',
        model: 'LS-100',
        registrationId: 'reg-sn-a',
        passedAt: expect.any(String) as string,
        attestation: 'x509-device-key',
        certificateDer: expect.any(Uint8Array) as Uint8Array,
      },
    ]);
  });

  it('leaves out a pass whose enrollment a later run superseded', () => {
    const first = pass('/dev/ttyUSB0', 'SN-A');
    const earlier = store.findEarlierPass({
      serialNumber: 'SN-A',
      model: 'LS-100',
      registrationId: 'reg-sn-a',
    })!;
    expect(earlier.runId).toBe(first);
    // The same board re-provisioned on another port: its run on USB0 no longer holds it.
    const second = pass('/dev/ttyUSB2', 'SN-A', { supersedes: earlier });
    expect(store.lastPassesByPort().map((p) => [p.port, p.runId])).toEqual([
      ['/dev/ttyUSB2', second],
    ]);
  });

  it('reads only the newest runs, by rowid, whatever the history holds', () => {
    pass('/dev/ttyUSB0', 'SN-A');
    expect(LAST_RUNS_WINDOW).toBeGreaterThanOrEqual(64 * 150);
    const plan = JSON.stringify(
      db.prepare(`EXPLAIN QUERY PLAN ${LAST_PASSES_BY_PORT_SQL}`).all({ window: LAST_RUNS_WINDOW }),
    );
    // The newest rows by rowid, then each port's last run by id: never a walk of every PASS.
    expect(plan).toContain('SEARCH runs USING INTEGER PRIMARY KEY (rowid>?)');
    expect(plan).toContain('SEARCH r USING INTEGER PRIMARY KEY (rowid=?)');
    expect(plan).not.toContain('runs_by_state');
    // A port whose last run is older than the window is not read at all.
    const old = db.prepare(LAST_PASSES_BY_PORT_SQL).all({ window: 0 });
    expect(old).toEqual([]);
  });
});
