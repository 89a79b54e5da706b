import { describe, expect, it } from 'vitest';
import type { RunDpsRecord } from '../../line/runRecorder.js';
import { ProvisioningStore } from '../provisioningStore.js';
import { runListQuery } from '../runHistory.js';
import { openStationDatabase } from '../stationDatabase.js';
import {
  expectLatestSchema,
  olderDatabaseWithOneFailedRun,
  useMigrationTestFile,
} from '../testing/migrationTestFile.js';
import { passedRun, recordIssuedCertificate } from '../testing/provisioningFixtures.js';
import { migrations } from './index.js';

const databaseFile = useMigrationTestFile('migration-014-');

const SENSOR: RunDpsRecord = {
  idScope: '0ne00AB12CD',
  globalEndpoint: 'global.azure-devices-provisioning.net',
  profileFingerprint: '0123456789abcdef',
};
const GATEWAY: RunDpsRecord = {
  idScope: '0ne00EF3456',
  globalEndpoint: '127.0.0.1:8443',
  profileFingerprint: 'fedcba9876543210',
};

describe('migration 014: the DPS settings each run writes', () => {
  it('keeps older runs as not recorded, records a new run at its start and audits it at its PASS', () => {
    olderDatabaseWithOneFailedRun(databaseFile(), 13);
    const db = openStationDatabase(databaseFile());
    expectLatestSchema(db);
    expect(migrations[13]).toMatchObject({ version: 14, name: 'run_dps_settings' });
    const store = new ProvisioningStore(db);

    expect(store.run(1)).toMatchObject({ state: 'fail', dps: null });
    const runId = store.beginRun('/dev/ttyUSB0', 'Sensor v2', Date.now(), 'auto', undefined, {
      dps: SENSOR,
    });
    // Recorded as the run opens: a run cut off before its PASS still says what it was to write.
    expect(store.run(runId)).toMatchObject({ state: 'running', dps: SENSOR });
    recordIssuedCertificate(db, `c-${runId}`, 'reg-sn1');
    store.commitPass(passedRun(runId, 'SN1', { profile: 'Sensor v2' }));
    expect(store.run(runId)).toMatchObject({ state: 'pass', dps: SENSOR });
    const [provisioned] = store.audit('device.provisioned');
    expect(provisioned!.detail).toMatchObject({
      runId,
      profile: 'Sensor v2',
      idScope: SENSOR.idScope,
      globalEndpoint: SENSOR.globalEndpoint,
      profileFingerprint: SENSOR.profileFingerprint,
    });

    // A run opened without them (an older caller) records none, and its PASS audits them as null.
    const bare = store.beginRun('/dev/ttyUSB1', 'line7', Date.now());
    recordIssuedCertificate(db, `c-${bare}`, 'reg-sn2');
    store.commitPass(passedRun(bare, 'SN2'));
    expect(store.run(bare)!.dps).toBeNull();
    expect(store.audit('device.provisioned')[0]!.detail).toMatchObject({
      runId: bare,
      idScope: null,
      globalEndpoint: null,
      profileFingerprint: null,
    });

    // A run the store refused to open is recorded later with what it was to write.
    store.recordRefusedStart(
      {
        port: '/dev/ttyUSB2',
        profile: 'Gateway',
        startedAt: Date.now(),
        startedBy: 'auto',
        device: undefined,
        dps: GATEWAY,
      },
      {
        state: 'fail',
        error: { code: 'STORE_BUSY', message: 'busy' },
        steps: [],
        finishedAt: Date.now(),
      },
    );
    expect(store.runs({ limit: 1 })[0]).toMatchObject({ port: '/dev/ttyUSB2', dps: GATEWAY });

    // All three or none, and a fingerprint of 16 lower-case hex digits.
    const insert = db.prepare(`INSERT INTO runs (port, profile, started_at, state, finished_at,
      error_code, dps_id_scope, dps_global_endpoint, profile_fingerprint)
      VALUES ('/dev/ttyUSB0', 'x', '2026-12-05T10:00:00.000Z', 'fail',
        '2026-12-05T10:00:01.000Z', 'WIRE_TIMEOUT', ?, ?, ?)`);
    for (const partial of [
      [SENSOR.idScope, null, SENSOR.profileFingerprint],
      [SENSOR.idScope, SENSOR.globalEndpoint, null],
      [null, SENSOR.globalEndpoint, SENSOR.profileFingerprint],
      [SENSOR.idScope, SENSOR.globalEndpoint, '0123456789ABCDEF'],
      [SENSOR.idScope, SENSOR.globalEndpoint, '0123456789abcde'],
    ]) {
      expect(() => insert.run(...partial), JSON.stringify(partial)).toThrow(
        /CHECK constraint failed/,
      );
    }
    db.close();
  });

  it("lists a scope's runs down its own index, whatever the letter case it is typed in", () => {
    olderDatabaseWithOneFailedRun(databaseFile(), 13);
    const db = openStationDatabase(databaseFile());
    const store = new ProvisioningStore(db);
    const opened = (dps: RunDpsRecord): number =>
      store.beginRun('/dev/ttyUSB0', 'p', Date.now(), 'auto', undefined, { dps });
    const sensors = [opened(SENSOR), opened(SENSOR)];
    opened(GATEWAY);
    sensors.push(opened(SENSOR));

    const newestFirst = [...sensors].reverse();
    expect(store.runs({ idScope: SENSOR.idScope }).map((r) => r.id)).toEqual(newestFirst);
    expect(store.runs({ idScope: '0ne00ab12cd' }).map((r) => r.id)).toEqual(newestFirst);
    expect(store.runs({ idScope: '0ne00AB12CE' })).toEqual([]);
    expect(store.runs({ idScope: SENSOR.idScope, state: 'running', limit: 2 })).toHaveLength(2);

    const planOf = (filter: Parameters<typeof runListQuery>[0]): string => {
      const { sql, params } = runListQuery(filter);
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      return plan.map((row) => row.detail).join('\n');
    };
    const alone = planOf({ idScope: SENSOR.idScope });
    expect(alone).toContain('USING INDEX runs_by_id_scope (dps_id_scope=?)');
    expect(alone).not.toContain('TEMP B-TREE');
    // A device's runs are few: its own index, not every run of a scope the whole line shares.
    const device = planOf({ idScope: SENSOR.idScope, serialNumber: 'SN1' });
    expect(device).toContain('runs_by_device');
    expect(device).not.toContain('runs_by_id_scope');
    const indexes = db.prepare(`SELECT name FROM pragma_index_info('runs_by_id_scope')`);
    expect(indexes.pluck().all()).toEqual(['dps_id_scope', 'id']);
    db.close();
  });
});
