import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PassedRunRecord } from '../line/lineTypes.js';
import { ProvisioningStore } from './provisioningStore.js';
import { openStationDatabase } from './stationDatabase.js';
import { StoreError, type StoreErrorCode } from './storeError.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

let db: Database.Database;
let store: ProvisioningStore;

beforeEach(() => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db);
});
afterEach(() => db.close());

/** One provisioning of `serial`, superseding whatever findEarlierPass reports (as the line does). */
function provision(serial: string, overrides: Partial<PassedRunRecord> = {}) {
  const runId = store.beginRun('/dev/ttyUSB3', 'line7', 1_000);
  const record = passedRun(runId, serial, overrides);
  recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
  const earlier = store.findEarlierPass({
    ...record.device,
    registrationId: record.registrationId,
  });
  const commit = () => store.commitPass(record, earlier && { supersedes: earlier });
  return { runId, record, earlier, commit };
}

const enrollments = () =>
  db
    .prepare(
      `SELECT id, run_id AS runId, registration_id AS registrationId, status,
      superseded_by AS supersededBy FROM enrollments ORDER BY id`,
    )
    .all();

function refusal(fn: () => unknown): { code: StoreErrorCode; detail?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected a StoreError');
}

describe('re-provisioning', () => {
  it('supersedes the earlier enrollment of the same device and keeps both', () => {
    const first = provision('SN-1');
    expect(first.earlier).toBeUndefined();
    const firstId = first.commit();
    db.prepare(`UPDATE enrollments SET status = 'synced', etag = '"e1"'`).run();

    const second = provision('SN-1');
    expect(second.earlier).toEqual({
      runId: first.runId,
      serialNumber: 'SN-1',
      model: 'LS-100',
      registrationId: 'reg-sn-1',
      passedAt: '1970-01-01T00:00:02.000Z',
    });
    const secondId = second.commit();
    expect(enrollments()).toEqual([
      {
        id: firstId,
        runId: first.runId,
        registrationId: 'reg-sn-1',
        status: 'superseded',
        supersededBy: secondId,
      },
      {
        id: secondId,
        runId: second.runId,
        registrationId: 'reg-sn-1',
        status: 'pending',
        supersededBy: null,
      },
    ]);
    expect(
      store.findEarlierPass({ serialNumber: 'SN-1', model: 'LS-100', registrationId: 'x' }),
    ).toMatchObject({ runId: second.runId });
    expect(store.audit('device.provisioned')[0]?.detail).toMatchObject({
      supersededEnrollmentId: firstId,
    });
    // Superseded rows are history: listed, but not counted as work.
    expect(store.listOutbox().map((e) => e.status)).toEqual(['superseded', 'pending']);
    expect(store.outboxCounts()).toMatchObject({ pending: 1, synced: 0 });
  });

  it('finds an earlier pass by registration ID on another device, and by device under a new ID', () => {
    provision('SN-1', { registrationId: 'reg-a' }).commit();
    expect(
      store.findEarlierPass({ serialNumber: 'SN-2', model: 'LS-100', registrationId: 'reg-a' }),
    ).toMatchObject({ serialNumber: 'SN-1', registrationId: 'reg-a' });
    expect(
      store.findEarlierPass({ serialNumber: 'SN-1', model: 'LS-100', registrationId: 'reg-b' }),
    ).toMatchObject({ serialNumber: 'SN-1', registrationId: 'reg-a' });
    expect(
      store.findEarlierPass({ serialNumber: 'SN-1', model: 'LS-200', registrationId: 'reg-b' }),
    ).toBeUndefined();
    // A new registration ID for the same device supersedes the old one (a profile change).
    const renamed = provision('SN-1', { registrationId: 'reg-b' });
    renamed.commit();
    expect(enrollments().map((e) => (e as { status: string }).status)).toEqual([
      'superseded',
      'pending',
    ]);
    expect(
      store.findEarlierPass({ serialNumber: 'SN-9', model: 'LS-100', registrationId: 'reg-a' }),
    ).toBeUndefined();
  });

  it('refuses while the earlier enrollment is syncing, and writes nothing', () => {
    provision('SN-1').commit();
    db.prepare(`UPDATE enrollments SET status = 'syncing'`).run();
    const again = provision('SN-1');
    expect(refusal(again.commit)).toEqual({
      code: 'STORE_ENROLLMENT_BUSY',
      detail: 'enrollment 1 (reg-sn-1) is syncing',
    });
    expect(enrollments()).toHaveLength(1);
    expect(db.prepare(`SELECT state FROM runs WHERE id = ?`).pluck().get(again.runId)).toBe(
      'running',
    );
    // Once the worker settles it, the same commit goes through.
    db.prepare(`UPDATE enrollments SET status = 'failed'`).run();
    again.commit();
    expect(store.outboxCounts()).toMatchObject({ pending: 1, failed: 0 });
  });

  it('refuses a supersede that went stale or names another device', () => {
    provision('SN-1').commit();
    const slotA = provision('SN-1');
    const slotB = provision('SN-1');
    slotA.commit();
    // slotB looked before slotA committed: its earlier pass is superseded now.
    expect(refusal(slotB.commit)).toMatchObject({
      code: 'STORE_EARLIER_PASS_CHANGED',
      detail: 'enrollment 1 of run 1 is already superseded',
    });
    const stranger = provision('SN-7');
    expect(
      refusal(() =>
        store.commitPass(stranger.record, {
          supersedes: { ...slotA.earlier!, runId: slotA.runId },
        }),
      ),
    ).toMatchObject({ code: 'STORE_EARLIER_PASS_CHANGED' });
    expect(enrollments()).toHaveLength(2);
  });

  it('refuses a second live enrollment for a registration ID when nothing is superseded', () => {
    provision('SN-1', { registrationId: 'reg-a' }).commit();
    const twin = provision('SN-2', { registrationId: 'reg-a' });
    expect(refusal(() => store.commitPass(twin.record))).toMatchObject({
      code: 'STORE_DUPLICATE_ENROLLMENT',
    });
  });
});
