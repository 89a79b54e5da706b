import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Writes the lease as another process would have taken it. */
function leaseHeldBy(pid: number, host = hostname(), renewedAt = station.clock.now()): void {
  station.db
    .prepare(`INSERT OR REPLACE INTO sync_lease VALUES (1, 'another worker', ?, ?, ?)`)
    .run(host, pid, renewedAt);
}

function leaseRow(): unknown {
  return station.db.prepare('SELECT host, pid FROM sync_lease').get();
}

/** The pid of a process that has ended. */
function endedPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid;
}

describe('SyncWorker: one worker per database (the sync lease)', () => {
  it("leaves alone the rows of another live process's worker, and takes over once it ends", async () => {
    const ids = ['SN1', 'SN2'].map((serial) => station.provision(serial));
    // The other process (this test's parent stands in: it runs) is sending SN1 right now.
    leaseHeldBy(process.ppid);
    station.db.prepare(`UPDATE enrollments SET status = 'syncing' WHERE id = ?`).run(ids[0]);
    const worker = station.worker();
    worker.start();

    await expect(worker.syncNow()).rejects.toMatchObject({
      code: 'SYNC_WORKER_ELSEWHERE',
      detail: `process ${process.ppid} on ${hostname()} holds the sync lease`,
    });
    expect(worker.status().lastError).toMatchObject({ code: 'SYNC_WORKER_ELSEWHERE' });
    expect(station.statuses()).toEqual(['syncing', 'pending']);
    expect(station.dps.calls).toEqual([]);

    // The other process ends without giving the lease back (killed): the next look takes it.
    leaseHeldBy(endedPid());
    await station.clock.advanceToNextTimer();
    await worker.syncNow();
    expect(station.statuses()).toEqual(['synced', 'synced']);
    expect(leaseRow()).toEqual({ host: hostname(), pid: process.pid });

    await worker.stop();
    expect(leaseRow()).toBeUndefined();
  });

  it('takes a lease of another host only once it went stale', async () => {
    station.provision('SN1');
    leaseHeldBy(process.ppid, 'line-7-other-host');
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_WORKER_ELSEWHERE' });

    await station.clock.advance(61_000);
    await worker.syncNow();
    expect(station.statuses()).toEqual(['synced']);
    expect(leaseRow()).toEqual({ host: hostname(), pid: process.pid });
  });

  it('stops draining once another host took the lease it held (not renewed in a long hold)', async () => {
    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    expect(leaseRow()).toEqual({ host: hostname(), pid: process.pid });

    // Another host judged the lease stale and took it (this worker renewed nothing for a
    // minute, in a long DPS hold): at its next renewal this worker must see that.
    leaseHeldBy(process.ppid, 'line-7-other-host');
    await station.clock.advance(16_000);
    station.provision('SN2');
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_WORKER_ELSEWHERE' });
    expect(station.statuses()).toEqual(['synced', 'pending']);
    expect(leaseRow()).toEqual({ host: 'line-7-other-host', pid: process.ppid });
    await worker.stop();
    // Its stop gives back nothing that is not its own.
    expect(leaseRow()).toEqual({ host: 'line-7-other-host', pid: process.ppid });
  });
});
