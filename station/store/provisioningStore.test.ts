import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PassedRunRecord } from '../line/lineTypes.js';
import { ProvisioningStore } from './provisioningStore.js';
import { openStationDatabase } from './stationDatabase.js';
import { StoreError, type StoreErrorCode } from './storeError.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const TABLES = ['devices', 'runs', 'certificates', 'enrollments', 'audit_events'] as const;

let db: Database.Database;
let store: ProvisioningStore;

beforeEach(() => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db, { now: () => NOW });
});
afterEach(() => db.close());

/** Every row of every table the store writes, to prove a refused commit left no trace. */
function snapshot(): Record<string, unknown[]> {
  return Object.fromEntries(
    TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]),
  );
}

const row = (sql: string, ...params: unknown[]) =>
  db.prepare(sql).get(...params) as Record<string, unknown> | undefined;

/** Opens a run and issues its certificate, as the line engine does before the device has it. */
function issuedRun(serial: string, registrationId = `reg-${serial.toLowerCase()}`): number {
  const runId = store.beginRun('/dev/ttyUSB3', 'line7', 1_000, 'operator');
  recordIssuedCertificate(db, `c-${runId}`, registrationId);
  return runId;
}

function pass(serial: string, overrides: Partial<PassedRunRecord> = {}) {
  const runId = issuedRun(serial, overrides.registrationId);
  const record = passedRun(runId, serial, overrides);
  return { runId, record, enrollmentId: store.commitPass(record) };
}

function expectStoreError(fn: () => unknown, code: StoreErrorCode, detail?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(StoreError);
  expect((thrown as StoreError).toJSON()).toMatchObject({ code, detail: expect.any(String) });
  if (detail) expect((thrown as StoreError).detail).toMatch(detail);
}

describe('ProvisioningStore.commitPass', () => {
  it('writes device, run, certificate, enrollment and audit event together', () => {
    const runId = issuedRun('SN-1');
    expect(row(`SELECT state, finished_at FROM runs WHERE id = ?`, runId)).toEqual({
      state: 'running',
      finished_at: null,
    });
    const record = passedRun(runId, 'SN-1');
    const enrollmentId = store.commitPass(record);

    expect(row(`SELECT * FROM devices`)).toMatchObject({
      serial_number: 'SN-1',
      model: 'LS-100',
      hardware_revision: 'B',
      firmware_version: '1.4.2',
      first_seen_at: NOW.toISOString(),
    });
    const run = row(`SELECT * FROM runs WHERE id = ?`, runId)!;
    expect(run).toMatchObject({
      state: 'pass',
      registration_id: 'reg-sn-1',
      certificate_serial: `c-${runId}`,
      started_at: '1970-01-01T00:00:01.000Z',
      finished_at: '1970-01-01T00:00:02.000Z',
      error_code: null,
    });
    expect(JSON.parse(run.steps as string)).toEqual(record.steps);
    expect(row(`SELECT status FROM certificates WHERE serial_number = ?`, `c-${runId}`)).toEqual({
      status: 'committed',
    });
    const enrollment = row(`SELECT * FROM enrollments WHERE id = ?`, enrollmentId)!;
    expect(enrollment).toMatchObject({
      registration_id: 'reg-sn-1',
      device_id: run.device_id,
      run_id: runId,
      attestation: 'x509-device-key',
      status: 'pending',
      attempts: 0,
      sealed_secret: null,
      superseded_by: null,
      created_at: NOW.toISOString(),
    });
    expect(JSON.parse(enrollment.body as string)).toEqual(record.enrollment);
    expect(store.audit('device.provisioned')).toEqual([
      expect.objectContaining({
        actor: 'station',
        subject: 'reg-sn-1',
        detail: expect.objectContaining({ runId, enrollmentId, certificateSerial: `c-${runId}` }),
      }),
    ]);
    expect(store.outboxCounts()).toEqual({
      pending: 1,
      syncing: 0,
      synced: 0,
      failed: 0,
      conflict: 0,
    });
  });

  it('keeps one device row across passes and updates its firmware version', () => {
    pass('SN-1');
    const again = issuedRun('SN-1', 'reg-sn-1-b');
    store.commitPass(
      passedRun(again, 'SN-1', {
        device: {
          serialNumber: 'SN-1',
          model: 'LS-100',
          hardwareRevision: 'B',
          firmwareVersion: '2.0.0',
        },
        registrationId: 'reg-sn-1-b',
      }),
    );
    expect(db.prepare(`SELECT firmware_version FROM devices`).all()).toEqual([
      { firmware_version: '2.0.0' },
    ]);
  });

  const refusals: {
    name: string;
    code: StoreErrorCode;
    detail: RegExp;
    arrange: () => PassedRunRecord;
  }[] = [
    {
      name: 'the certificate was never recorded',
      code: 'STORE_CERTIFICATE_STATE',
      detail: /never recorded/,
      arrange: () => passedRun(store.beginRun('p', 'line7', 1), 'SN-9'),
    },
    {
      name: 'the certificate is already abandoned',
      code: 'STORE_CERTIFICATE_STATE',
      detail: /is abandoned/,
      arrange: () => {
        const runId = issuedRun('SN-9');
        db.prepare(`UPDATE certificates SET status = 'abandoned'`).run();
        return passedRun(runId, 'SN-9');
      },
    },
    {
      name: 'the certificate names another registration ID',
      code: 'STORE_CERTIFICATE_STATE',
      detail: /issued for reg-other/,
      arrange: () => passedRun(issuedRun('SN-9', 'reg-other'), 'SN-9'),
    },
    {
      name: 'an X.509 run reports no certificate',
      code: 'STORE_CERTIFICATE_STATE',
      detail: /no certificate serial/,
      arrange: () => passedRun(issuedRun('SN-9'), 'SN-9', { certificateSerial: undefined }),
    },
    {
      name: 'the run has already ended',
      code: 'STORE_RUN_NOT_RUNNING',
      detail: /is fail/,
      arrange: () => {
        const runId = issuedRun('SN-9');
        db.prepare(`UPDATE runs SET state = 'fail', error_code = 'X', finished_at = 'x'`).run();
        return passedRun(runId, 'SN-9');
      },
    },
    {
      name: 'the enrollment body holds a symmetric key in clear',
      code: 'STORE_RECORD_INVALID',
      detail: /enrollment\.attestation\.symmetricKey\.primaryKey/,
      arrange: () =>
        passedRun(issuedRun('SN-9'), 'SN-9', {
          attestation: 'symmetric-key-group',
          certificateSerial: undefined,
          enrollment: { attestation: { symmetricKey: { primaryKey: 'c2VjcmV0' } } },
        }),
    },
    {
      name: 'an individual symmetric key has no sealed secret',
      code: 'STORE_RECORD_INVALID',
      detail: /no sealed key/,
      arrange: () =>
        passedRun(issuedRun('SN-9'), 'SN-9', {
          attestation: 'symmetric-key-individual',
          certificateSerial: undefined,
        }),
    },
    {
      // Fails at the enrollment insert, after device, run and certificate were written.
      name: 'another device holds the registration ID',
      code: 'STORE_DUPLICATE_ENROLLMENT',
      detail: /reg-shared is held by enrollment \d+ \(run \d+\)/,
      arrange: () => {
        pass('SN-1', { registrationId: 'reg-shared' });
        return passedRun(issuedRun('SN-9', 'reg-shared'), 'SN-9', {
          registrationId: 'reg-shared',
        });
      },
    },
    {
      // Fails at the very last write of the transaction.
      name: 'the audit event cannot be written',
      code: 'STORE_WRITE_FAILED',
      detail: /disk says no/,
      arrange: () => {
        db.exec(`CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON main.audit_events
          BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
        return passedRun(issuedRun('SN-9'), 'SN-9');
      },
    },
  ];

  it.each(refusals)('writes nothing when $name', ({ code, detail, arrange }) => {
    const record = arrange();
    const before = snapshot();
    expectStoreError(() => store.commitPass(record), code, detail);
    expect(snapshot()).toEqual(before);
  });
});

describe('ProvisioningStore.recordFailure', () => {
  it('ends the run, abandons its certificate, links the device and writes no enrollment', () => {
    const runId = issuedRun('SN-2');
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'VERIFY_SIGNATURE_INVALID', message: 'Retry.', detail: 'sig mismatch' },
      certificateSerial: `c-${runId}`,
      device: { serialNumber: 'SN-2', model: 'LS-100' },
      registrationId: 'reg-sn-2',
      steps: [{ step: 'verify', startedAt: 1_500, endedAt: 1_600 }],
      finishedAt: 1_600,
    });
    expect(store.runs()).toEqual([
      {
        id: runId,
        port: '/dev/ttyUSB3',
        profile: 'line7',
        state: 'fail',
        serialNumber: 'SN-2',
        model: 'LS-100',
        registrationId: 'reg-sn-2',
        certificateSerial: `c-${runId}`,
        error: { code: 'VERIFY_SIGNATURE_INVALID', message: 'Retry.', detail: 'sig mismatch' },
        steps: [{ step: 'verify', startedAt: 1_500, endedAt: 1_600 }],
        startedAt: '1970-01-01T00:00:01.000Z',
        startedBy: 'operator',
        operatorName: null,
        finishedAt: '1970-01-01T00:00:01.600Z',
        evidence: null,
        dps: null,
      },
    ]);
    expect(row(`SELECT status FROM certificates`)).toEqual({ status: 'abandoned' });
    expect(row(`SELECT hardware_revision, firmware_version FROM devices`)).toEqual({
      hardware_revision: null,
      firmware_version: null,
    });
    expect(row(`SELECT count(*) AS n FROM enrollments`)).toEqual({ n: 0 });
    expect(store.audit()).toEqual([
      expect.objectContaining({
        kind: 'run.failed',
        subject: 'reg-sn-2',
        detail: expect.objectContaining({ runId, certificateAbandoned: true }),
      }),
    ]);
  });

  it('records a cancel without device or certificate, and refuses a run that already ended', () => {
    const runId = store.beginRun('COM7', 'line7', 1_000);
    const cancel = {
      state: 'cancelled' as const,
      error: { code: 'RUN_CANCELLED', message: 'Cancelled by the operator.' },
      steps: [],
      finishedAt: 1_100,
    };
    store.recordFailure(runId, cancel);
    expect(store.runs()[0]).toMatchObject({
      state: 'cancelled',
      serialNumber: null,
      error: cancel.error,
    });
    expect(store.audit('run.failed')[0]).toMatchObject({ subject: `run:${runId}` });
    const before = snapshot();
    expectStoreError(
      () => store.recordFailure(runId, cancel),
      'STORE_RUN_NOT_RUNNING',
      /cancelled/,
    );
    expect(snapshot()).toEqual(before);
  });

  it('keeps a known device revision and leaves an unknown certificate unlinked', () => {
    pass('SN-3');
    const runId = store.beginRun('p', 'line7', 1);
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'CSR_MALFORMED', message: 'm' },
      certificateSerial: 'never-issued',
      device: { serialNumber: 'SN-3', model: 'LS-100' },
      steps: [],
      finishedAt: 2,
    });
    expect(row(`SELECT hardware_revision FROM devices`)).toEqual({ hardware_revision: 'B' });
    expect(row(`SELECT certificate_serial FROM runs WHERE id = ?`, runId)).toEqual({
      certificate_serial: null,
    });
  });
});
