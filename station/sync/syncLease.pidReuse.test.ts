import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTicks, thisProcess } from '../store/runOwner.js';
import { activeSyncHolder, SyncLease } from './syncLease.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/**
 * A process of this host that runs and is not this one: this test's parent stands in for the
 * unrelated process that took over a crashed holder's pid.
 */
const LIVE_PID = process.ppid;

/** Writes the lease as a worker of `pid` on this host would have taken it, with its process. */
function leaseHeldBy(pid: number, boot: string | null, started: string | null): void {
  station.db
    .prepare(`INSERT OR REPLACE INTO sync_lease VALUES (1, 'another worker', ?, ?, ?)`)
    .run(hostname(), pid, station.clock.now());
  station.db
    .prepare(`INSERT OR REPLACE INTO sync_lease_process (holder, boot, started) VALUES (?, ?, ?)`)
    .run('another worker', boot, started);
}

function leaseRow(): unknown {
  return station.db
    .prepare(
      `SELECT l.host, l.pid, p.boot, p.started
       FROM sync_lease l LEFT JOIN sync_lease_process p ON p.holder = l.holder`,
    )
    .get();
}

// Boot ids and process starts are read from /proc: elsewhere the pid alone tells, as before.
const boot = thisProcess().boot;
const liveStart = processStartTicks(LIVE_PID);
const linux = boot !== undefined && liveStart !== undefined;

describe.skipIf(!linux)('SyncLease: a pid taken over by an unrelated process', () => {
  it('takes a lease of an earlier boot whose pid a process of this boot now has', async () => {
    // The station lost power while its worker sent SN1; after the reboot its pid is another's.
    const ids = ['SN1', 'SN2'].map((serial) => station.provision(serial));
    station.db.prepare(`UPDATE enrollments SET status = 'syncing' WHERE id = ?`).run(ids[0]);
    leaseHeldBy(LIVE_PID, 'a-boot-before-the-power-cut', liveStart!);
    expect(activeSyncHolder(station.db)).toBeUndefined();

    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    // The lease taken, the row left syncing was recovered and sent with the rest.
    expect(station.statuses()).toEqual(['synced', 'synced']);
    expect(leaseRow()).toEqual({
      host: hostname(),
      pid: process.pid,
      boot,
      started: processStartTicks(process.pid),
    });
    expect(activeSyncHolder(station.db)).toEqual({ host: hostname(), pid: process.pid });

    await worker.stop();
    expect(leaseRow()).toBeUndefined();
    expect(station.db.prepare(`SELECT count(*) FROM sync_lease_process`).pluck().get()).toBe(0);
  });

  it('takes a lease of this boot whose pid now belongs to a process that started at another time', () => {
    leaseHeldBy(LIVE_PID, boot!, String(BigInt(liveStart!) + 1n));
    expect(activeSyncHolder(station.db)).toBeUndefined();

    const lease = new SyncLease(station.db, () => station.clock.now());
    expect(lease.hold()).toEqual({ justTaken: true });
    expect(leaseRow()).toMatchObject({ host: hostname(), pid: process.pid, boot });
  });

  it('respects the lease of a live process of this boot that started when its lease says', async () => {
    leaseHeldBy(LIVE_PID, boot!, liveStart!);
    expect(activeSyncHolder(station.db)).toEqual({ host: hostname(), pid: LIVE_PID });

    const lease = new SyncLease(station.db, () => station.clock.now());
    expect(lease.hold()).toEqual({ holder: { host: hostname(), pid: LIVE_PID } });

    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_WORKER_ELSEWHERE' });
    expect(station.statuses()).toEqual(['pending']);
    expect(leaseRow()).toEqual({ host: hostname(), pid: LIVE_PID, boot, started: liveStart });
  });

  it('judges a lease written by an older station (no boot, no start) by its pid alone', () => {
    station.db
      .prepare(`INSERT INTO sync_lease VALUES (1, 'older worker', ?, ?, ?)`)
      .run(hostname(), LIVE_PID, station.clock.now());
    expect(activeSyncHolder(station.db)).toEqual({ host: hostname(), pid: LIVE_PID });
    const lease = new SyncLease(station.db, () => station.clock.now());
    expect(lease.hold()).toEqual({ holder: { host: hostname(), pid: LIVE_PID } });
  });
});
