import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRetryWaits } from './retryWaits.js';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs a worker until it backs off after `fault`, then stops it, as a process that ended. */
async function failOnce(fault: Parameters<SyncTestStation['dps']['failNext']>[1]): Promise<void> {
  station.dps.failNext('bulkEnrollments', fault);
  const worker = station.worker();
  worker.start();
  await stateReached(worker, 'backoff');
  await worker.stop();
}

describe("SyncWorker: a supervisor's sync now and the retry waits of rows", () => {
  it('says whose hold it sits out: the station’s own after an untrusted DPS certificate', async () => {
    station.provision('SN1');
    station.dps.failNext('bulkEnrollments', { kind: 'untrusted-certificate' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'backoff');
    expect(worker.status()).toMatchObject({
      heldUntil: expect.any(String),
      heldByDps: false,
      lastError: { code: 'DPS_TLS_UNTRUSTED' },
    });
    await worker.stop();
  });

  it("sends at once the rows waiting out the station's own delay, and keeps the wait DPS asked for", async () => {
    const t0 = station.clock.now();
    station.provision('SN1');
    await failOnce({ kind: 'throttle', retryAfterMs: 60_000 });
    station.provision('SN2');
    station.provision('SN3');
    // The DPS certificate was not trusted: SN2 and SN3 wait out the station's own backoff.
    await failOnce({ kind: 'untrusted-certificate' });
    const rows = station.rows();
    expect(rows.map((r) => r.lastErrorCode)).toEqual([
      'SYNC_DPS_RETRY',
      'SYNC_DPS_UNTRUSTED',
      'SYNC_DPS_UNTRUSTED',
    ]);
    expect(rows.every((r) => Date.parse(r.nextAttemptAt!) > t0)).toBe(true);
    expect(readRetryWaits(station.db, t0)).toEqual({
      dps: { count: 1, codes: ['SYNC_DPS_RETRY'], first: iso(t0 + 60_000), last: iso(t0 + 60_000) },
      stationOwn: {
        count: 2,
        codes: ['SYNC_DPS_UNTRUSTED'],
        first: rows[1]!.nextAttemptAt,
        last: rows[2]!.nextAttemptAt,
      },
    });

    // Fixed (LINE_STATION_DPS_CA set), a new process asks: no time has passed.
    const calls = station.dps.calls.length;
    const worker = station.worker();
    worker.start();
    const progress = await worker.syncNow();
    expect(station.statuses()).toEqual(['pending', 'synced', 'synced']);
    expect(progress.session.synced).toBe(2);
    expect(station.dps.calls.slice(calls).every((c) => c.at === t0)).toBe(true);
    // DPS's Retry-After is honoured, to the millisecond.
    expect(station.rows()[0]).toMatchObject({
      status: 'pending',
      nextAttemptAt: iso(t0 + 60_000),
      lastErrorCode: 'SYNC_DPS_RETRY',
    });
    expect(readRetryWaits(station.db, t0)).toEqual({
      dps: { count: 1, codes: ['SYNC_DPS_RETRY'], first: iso(t0 + 60_000), last: iso(t0 + 60_000) },
    });
  });

  it('does not touch the waits of rows whose sync lease another process holds', async () => {
    station.provision('SN1');
    await failOnce({ kind: 'untrusted-certificate' });
    const before = station.rows()[0]!.nextAttemptAt;
    station.db
      .prepare(`INSERT OR REPLACE INTO sync_lease VALUES (1, 'another worker', ?, ?, ?)`)
      .run('line-7-other-host', process.ppid, station.clock.now());
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_WORKER_ELSEWHERE' });
    expect(station.rows()[0]!.nextAttemptAt).toBe(before);
  });
});
