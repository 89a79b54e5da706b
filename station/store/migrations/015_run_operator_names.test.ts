import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../provisioningStore.js';
import { openStationDatabase } from '../stationDatabase.js';
import {
  expectLatestSchema,
  olderDatabaseWithOneFailedRun,
  useMigrationTestFile,
} from '../testing/migrationTestFile.js';
import { passedRun, recordIssuedCertificate } from '../testing/provisioningFixtures.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-015-');

describe('migration 015: the name of the operator who started a run', () => {
  it('keeps older runs nameless, records a named start, and audits its end as that operator', () => {
    olderDatabaseWithOneFailedRun(databaseFile(), 14);
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(migrations[14]).toMatchObject({ version: 15, name: 'run_operator_names' });
    const store = new ProvisioningStore(db);
    expect(store.run(1)).toMatchObject({ state: 'fail', startedBy: null, operatorName: null });

    // `station provision` names the operator as the run opens; its PASS is then theirs.
    const named = store.beginRun('/dev/ttyUSB0', 'line7', Date.now(), 'operator', undefined, {
      operatorName: 'ann',
    });
    expect(store.run(named)).toMatchObject({ startedBy: 'operator', operatorName: 'ann' });
    recordIssuedCertificate(db, `c-${named}`, 'reg-sn1');
    store.commitPass(passedRun(named, 'SN1'));
    expect(store.audit('device.provisioned')[0]).toMatchObject({
      actor: 'operator:ann',
      detail: expect.not.objectContaining({ operatorName: expect.anything() }),
    });

    // A failure of a named run is theirs too; a press in the UI or auto mode stays the station's.
    const failed = store.beginRun('/dev/ttyUSB0', 'line7', Date.now(), 'operator', undefined, {
      operatorName: 'bob',
    });
    store.recordFailure(failed, {
      state: 'fail',
      error: { code: 'WIRE_TIMEOUT', message: 'The device did not answer.' },
      steps: [],
      finishedAt: Date.now(),
    });
    const pressed = store.beginRun('/dev/ttyUSB1', 'line7', Date.now(), 'operator');
    store.recordFailure(pressed, {
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
      steps: [],
      finishedAt: Date.now(),
    });
    expect(store.audit('run.failed').map((event) => [event.detail['runId'], event.actor])).toEqual([
      [pressed, 'station'],
      [failed, 'operator:bob'],
    ]);
    expect(store.run(pressed)).toMatchObject({ startedBy: 'operator', operatorName: null });

    // A name goes with an operator's start only, and within what --by takes.
    const refused = ((): unknown => {
      try {
        return store.beginRun('/dev/ttyUSB2', 'line7', Date.now(), 'auto', undefined, {
          operatorName: 'ann',
        });
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toMatchObject({ detail: expect.stringMatching(/CHECK constraint failed/) });
    const insert = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
      error_code, started_by, operator_name) VALUES ('/dev/ttyUSB0', 'x',
      '2026-12-05T10:00:00.000Z', 'fail', '2026-12-05T10:00:01.000Z', 'WIRE_TIMEOUT', ?, ?)`);
    for (const [startedBy, name] of [
      [null, 'ann'],
      ['operator', ''],
      ['operator', 'x'.repeat(257)],
    ]) {
      expect(() => insert.run(startedBy, name), `${startedBy} ${name}`).toThrow(
        /CHECK constraint failed/,
      );
    }
    db.close();
  });
});
