import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncState } from './syncTypes.js';
import { progressReached, stateReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const iso = (ms: number) => new Date(ms).toISOString();
const provisionMany = (n: number) =>
  Array.from({ length: n }, (_, i) => station.provision(`SN${i}`));

describe('SyncWorker: retries, crashes and the way back online', () => {
  it('honours Retry-After: rows wait for it, and no call starts before it', async () => {
    provisionMany(5);
    station.dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 30_000 });
    const t0 = station.clock.now();
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');

    for (const row of station.rows()) {
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: iso(t0 + 30_000),
        lastErrorCode: 'SYNC_DPS_RETRY',
        // A 429 applied nothing: no need to read DPS back.
        needsReconcile: 0,
      });
    }
    expect(worker.status()).toMatchObject({
      heldUntil: iso(t0 + 30_000),
      heldByDps: true,
      lastError: { code: 'DPS_THROTTLED' },
    });
    // "Sync now" does not cut a Retry-After short.
    const done = worker.syncNow();
    await station.clock.advance(29_999);
    expect(station.dps.calls).toHaveLength(1);
    await station.clock.advance(1);
    const progress = await done;

    expect(station.dps.calls.map((c) => c.at - t0)).toEqual([0, 30_000]);
    expect(station.statuses()).toEqual(Array(5).fill('synced'));
    expect(station.rows()[0]!.attempts).toBe(2);
    expect(progress.lastError).toBeUndefined();
  });

  it('keeps a Retry-After when "sync now" cuts the offline backoff that came after it', async () => {
    provisionMany(20);
    station.dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 30_000 });
    station.dps.failNext('bulkEnrollments', { kind: 'unreachable' });
    const t0 = station.clock.now();
    const worker = station.worker({ concurrency: 2 });
    worker.start();
    await stateReached(worker, 'offline');
    expect(station.dps.calls).toHaveLength(2);

    const done = worker.syncNow();
    await station.clock.advance(29_999);
    expect(station.dps.calls).toHaveLength(2);
    await station.clock.advance(1);
    await done;
    expect(station.dps.calls.slice(2).every((c) => c.at - t0 >= 30_000)).toBe(true);
    expect(station.statuses()).toEqual(Array(20).fill('synced'));
  });

  it('reads DPS back after a reset that came after DPS applied the bulk: nothing created twice', async () => {
    provisionMany(10);
    station.dps.failNext('bulkEnrollments', { kind: 'reset', applied: true });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'offline');

    expect(station.dps.size).toBe(10);
    for (const row of station.rows()) {
      expect(row).toMatchObject({
        status: 'pending',
        needsReconcile: 1,
        lastErrorCode: 'SYNC_OFFLINE',
      });
    }
    expect(worker.status().connection).toBe('offline');

    const progress = await worker.syncNow();
    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      ...Array(10).fill('getEnrollment'),
    ]);
    expect([...station.dps.creations.values()]).toEqual(Array(10).fill(1));
    for (const row of station.rows()) {
      expect(row.status).toBe('synced');
      expect(row.etag).toBe(station.dps.held(row.registrationId)!.etag);
      expect(row.syncNote).toBe('found in DPS');
    }
    expect(progress.connection).toBe('online');
    expect(station.store.audit('enrollment.synced')[0]!.detail).toMatchObject({ how: 'found' });
  });

  it('reads DPS back after a reset before DPS applied it, then creates once', async () => {
    provisionMany(3);
    station.dps.failNext('bulkEnrollments', { kind: 'reset', applied: false });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'offline');
    expect(station.dps.size).toBe(0);

    await worker.syncNow();
    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      'getEnrollment',
      'getEnrollment',
      'getEnrollment',
      'bulkEnrollments',
    ]);
    expect([...station.dps.creations.values()]).toEqual([1, 1, 1]);
    expect(station.statuses()).toEqual(['synced', 'synced', 'synced']);
  });

  it('settles rows a crash left syncing by reading DPS: ours, absent, or someone else’s', async () => {
    const [ours, absent, theirs] = provisionMany(3).map((id) => station.row(id));
    station.dps.seed(JSON.parse(ours!.body));
    station.dps.seed({
      registrationId: theirs!.registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: 'AAAA' } } },
      },
    });
    // As the previous process left them: claimed and (maybe) sent, never marked.
    station.db.prepare(`UPDATE enrollments SET status = 'syncing', attempts = 1`).run();

    const worker = station.worker();
    worker.start();
    expect(station.store.audit('enrollment.sync-interrupted')).toHaveLength(3);
    await worker.syncNow();

    expect(station.statuses()).toEqual(['synced', 'synced', 'conflict']);
    expect(station.dps.creations.get(ours!.registrationId)).toBe(1);
    expect(station.dps.creations.get(absent!.registrationId)).toBe(1);
    expect(station.dps.callsOf('bulkEnrollments').map((c) => c.registrationIds)).toEqual([
      [absent!.registrationId],
    ]);
    expect(station.rows().map((r) => r.attempts)).toEqual([2, 2, 2]);
  });

  it('goes offline when DPS is unreachable, probes with growing backoff, and comes back online', async () => {
    provisionMany(4);
    station.dps.failNext('*', { kind: 'unreachable' }, 3);
    const states: SyncState[] = [];
    const worker = station.worker();
    worker.onStateChange.on((change) => states.push(change.state));
    const t0 = station.clock.now();
    worker.start();
    await stateReached(worker, 'offline');
    expect(worker.status().connection).toBe('offline');
    // While offline a row waits for the worker's next probe, at 500 ms below: `sync status`,
    // in another process, reads that time from the row ("sync now" cuts it, as its own wait).
    expect(station.rows()[0]).toMatchObject({ status: 'pending', nextAttemptAt: iso(t0 + 500) });

    for (const failures of [2, 3]) {
      await station.clock.advanceToNextTimer();
      await progressReached(
        worker,
        (p) => p.session.operations === failures && p.state === 'offline',
      );
    }
    await station.clock.advanceToNextTimer();
    await progressReached(worker, (p) => p.counts.synced === 4);

    // Probes waited 500, 1000, then 2000 ms (full jitter at 0.5 of 1, 2, 4 s).
    expect(station.dps.calls.slice(0, 4).map((c) => [c.method, c.at - t0])).toEqual([
      ['bulkEnrollments', 0],
      ['getEnrollment', 500],
      ['getEnrollment', 1_500],
      ['getEnrollment', 3_500],
    ]);
    expect(worker.status().connection).toBe('online');
    expect(states).toEqual(['idle', 'syncing', 'offline', 'syncing', 'idle']);
  });

  it('rejects "sync now" when DPS cannot be reached, and keeps every row', async () => {
    provisionMany(2);
    station.dps.failNext('*', { kind: 'timeout', applied: false }, 2);
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_OFFLINE' });
    // A second "sync now" probes at once instead of waiting out the backoff, and fails again.
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_OFFLINE' });
    expect(station.statuses()).toEqual(['pending', 'pending']);
    await worker.syncNow();
    expect(station.statuses()).toEqual(['synced', 'synced']);
  });

  it('backs off after a 500 and reads DPS back before sending again', async () => {
    provisionMany(2);
    station.dps.failNext('bulkEnrollments', { kind: 'server-error' });
    const t0 = station.clock.now();
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(station.rows()[0]).toMatchObject({
      status: 'pending',
      needsReconcile: 1,
      nextAttemptAt: iso(t0 + 500),
    });
    await station.clock.advanceToNextTimer();
    await progressReached(worker, (p) => p.counts.synced === 2);
    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      'getEnrollment',
      'getEnrollment',
      'bulkEnrollments',
    ]);
  });

  it('keeps rows pending when DPS refuses the station credentials', async () => {
    provisionMany(2);
    station.dps.failNext('bulkEnrollments', { kind: 'unauthorized' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(worker.status().lastError).toMatchObject({ code: 'DPS_UNAUTHORIZED' });
    expect(station.rows().map((r) => [r.status, r.lastErrorCode, r.needsReconcile])).toEqual([
      ['pending', 'SYNC_CREDENTIALS_REFUSED', 0],
      ['pending', 'SYNC_CREDENTIALS_REFUSED', 0],
    ]);
  });

  it('holds rows pending for a person, not as offline, when the DPS certificate is not trusted', async () => {
    provisionMany(2);
    station.dps.failNext('bulkEnrollments', { kind: 'untrusted-certificate' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(worker.status()).toMatchObject({
      state: 'backoff',
      lastError: { code: 'DPS_TLS_UNTRUSTED' },
    });
    expect(station.rows().map((r) => [r.status, r.lastErrorCode, r.needsReconcile])).toEqual([
      ['pending', 'SYNC_DPS_UNTRUSTED', 0],
      ['pending', 'SYNC_DPS_UNTRUSTED', 0],
    ]);
  });

  it('holds rows pending for a person, with their own code, when the station clock is behind', async () => {
    provisionMany(2);
    station.dps.failNext('bulkEnrollments', { kind: 'clock-behind' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(worker.status().lastError).toMatchObject({ code: 'DPS_CLOCK_WRONG' });
    expect(station.rows().map((r) => [r.status, r.lastErrorCode, r.needsReconcile])).toEqual([
      ['pending', 'SYNC_CLOCK_WRONG', 0],
      ['pending', 'SYNC_CLOCK_WRONG', 0],
    ]);
  });

  it('fails "sync now" with what needs a person, instead of waiting for ever', async () => {
    for (const [fault, code] of [
      ['clock-behind', 'SYNC_CLOCK_WRONG'],
      ['unauthorized', 'SYNC_CREDENTIALS_REFUSED'],
      ['untrusted-certificate', 'SYNC_DPS_UNTRUSTED'],
    ] as const) {
      const own = new SyncTestStation();
      try {
        own.provision('SN1');
        own.dps.failNext('bulkEnrollments', { kind: fault });
        const worker = own.worker();
        worker.start();
        await expect(worker.syncNow()).rejects.toMatchObject({ code });
        expect(worker.status().heldUntil).toBeDefined();
        // Once the cause is fixed, "sync now" sends at once: the backoff after such a refusal
        // is the station's own wait, not one DPS asked for (retryWaits.ts).
        const calls = own.dps.calls.length;
        expect((await worker.syncNow()).counts.synced).toBe(1);
        expect(own.dps.calls.slice(calls).map((c) => c.at)).toEqual([own.clock.now()]);
      } finally {
        await own.close();
      }
    }
  });
});
