import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const serials = (n: number, prefix = 'SN') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('SyncWorker: draining the outbox', () => {
  it('drains 25 rows in 3 bulk creates, oldest first, and records each as synced', async () => {
    const ids = serials(25).map((s) => station.provision(s));
    const worker = station.worker();
    worker.start();
    const progress = await worker.syncNow();

    // Three batches were in flight at once (concurrency 4), so they may reach DPS in any order;
    // each is a consecutive slice of the outbox, claimed oldest first.
    const bulks = station.dps
      .callsOf('bulkEnrollments')
      .sort((a, b) => a.registrationIds[0]!.localeCompare(b.registrationIds[0]!));
    expect(bulks.map((c) => [c.mode, c.registrationIds.length])).toEqual([
      ['create', 10],
      ['create', 10],
      ['create', 5],
    ]);
    const all = serials(25).map((s) => `reg-${s.toLowerCase()}`);
    expect(bulks.flatMap((c) => c.registrationIds)).toEqual(all);
    // No GET is spent on a bulk that succeeded.
    expect(station.dps.calls).toHaveLength(3);
    expect(station.dps.size).toBe(25);

    const rows = station.rows();
    expect(rows.map((r) => r.id)).toEqual(ids);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'synced',
        attempts: 1,
        etag: null,
        syncedAt: new Date(station.clock.now()).toISOString(),
        lastErrorCode: null,
        needsReconcile: 0,
      });
    }
    expect(progress.counts).toEqual({ pending: 0, syncing: 0, synced: 25, failed: 0, conflict: 0 });
    expect(progress.session).toMatchObject({ synced: 25, operations: 3 });
    expect(progress.connection).toBe('online');
    expect(station.store.audit('enrollment.synced')).toHaveLength(25);
  });

  it('sends batches in outbox order when one lane is allowed', async () => {
    serials(12).forEach((s) => station.provision(s));
    const worker = station.worker({ concurrency: 1 });
    worker.start();
    await worker.syncNow();
    expect(station.dps.calls.map((c) => c.registrationIds.length)).toEqual([10, 2]);
    expect(station.dps.calls[1]!.registrationIds).toEqual(['reg-sn010', 'reg-sn011']);
  });

  it('marks rows syncing, with the attempt counted, before the bulk call is sent', async () => {
    serials(3).forEach((s) => station.provision(s));
    const hold = station.dps.holdNext('bulkEnrollments');
    const worker = station.worker();
    worker.start();
    await hold.reached;
    expect(station.rows().map((r) => [r.status, r.attempts])).toEqual([
      ['syncing', 1],
      ['syncing', 1],
      ['syncing', 1],
    ]);
    hold.release();
    await worker.syncNow();
    expect(station.statuses()).toEqual(['synced', 'synced', 'synced']);
  });

  it('fails only the item DPS refuses, keeping its DPS error', async () => {
    serials(3).forEach((s) => station.provision(s));
    station.dps.refuseItem = (e) =>
      e.registrationId === 'reg-sn001'
        ? { errorCode: 400004, errorStatus: 'Invalid certificate.' }
        : undefined;
    const worker = station.worker();
    worker.start();
    const progress = await worker.syncNow();

    expect(station.statuses()).toEqual(['synced', 'failed', 'synced']);
    const failed = station.rows()[1]!;
    expect(failed.lastErrorCode).toBe('SYNC_DPS_REJECTED');
    expect(failed.lastError).toMatch(/400004: Invalid certificate\./);
    expect(JSON.parse(failed.dpsError!)).toEqual({
      status: 400,
      errorCode: 400004,
      message: 'Invalid certificate.',
    });
    expect(station.store.audit('enrollment.sync-failed')[0]).toMatchObject({
      subject: 'reg-sn001',
      detail: { code: 'SYNC_DPS_REJECTED', dpsError: { errorCode: 400004 } },
    });
    expect(progress.session).toMatchObject({ synced: 2, failed: 1 });
    expect(station.dps.callsOf('bulkEnrollments')).toHaveLength(1);
  });

  it('splits a bulk DPS refused as a whole, so one bad enrollment does not fail the others', async () => {
    serials(3).forEach((s) => station.provision(s));
    station.dps.failNext('bulkEnrollments', { kind: 'bad-request' });
    station.dps.failNext('bulkEnrollments', { kind: 'bad-request' }); // then SN001 alone, again
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    expect(station.dps.callsOf('bulkEnrollments').map((c) => c.registrationIds)).toEqual([
      ['reg-sn000', 'reg-sn001', 'reg-sn002'],
      ['reg-sn000'],
      ['reg-sn001'],
      ['reg-sn002'],
    ]);
    // The first single item drew the second refusal.
    expect(station.statuses()).toEqual(['failed', 'synced', 'synced']);
    expect(JSON.parse(station.rows()[0]!.dpsError!)).toMatchObject({
      status: 400,
      errorCode: 400000,
    });
  });

  it('never sends a superseded enrollment', async () => {
    station.provision('SN1'); // superseded below before any sync
    station.provision('SN1');
    station.provision('SN2');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    expect(station.statuses()).toEqual(['superseded', 'synced', 'synced']);
    const sent = station.dps.calls.flatMap((c) => c.enrollments ?? []);
    expect(sent).toHaveLength(2);
    const newest = JSON.parse(station.rows()[1]!.body) as { attestation: unknown };
    expect(station.dps.held('reg-sn1')!.attestation).toEqual(newest.attestation);
  });

  it('picks up rows committed while it runs when told, and on its poll otherwise', async () => {
    const worker = station.worker({ pollIntervalMs: 5_000 });
    worker.start();
    await worker.syncNow();
    station.provision('LATE1');
    worker.notify();
    await worker.syncNow();
    expect(station.statuses()).toEqual(['synced']);

    station.provision('LATE2');
    const synced = new Promise<void>((resolve) =>
      worker.onProgress.on((p) => p.counts.synced === 2 && resolve()),
    );
    await station.clock.advance(5_000);
    await synced;
    expect(station.statuses()).toEqual(['synced', 'synced']);
  });
});
