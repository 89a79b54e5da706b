/**
 * The station database locked by another process (a supervisor's command still running, a
 * backup tool, sqlite3) is no disk fault: the sync says another program holds it and that it
 * waits by itself, and the log's line when it passes names the database, not DPS. Real parts: a
 * real station database file, its lock held by a child process, the sync worker and the line's
 * sync log wired as productionStation.ts wires them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncLog } from '../production/syncLog.js';
import { progressReached, stateReached, SyncTestStation } from './testing/syncTestStation.js';

/** Takes the database's write lock, says "locked", and commits when told on its stdin. */
const LOCK_HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.prepare('BEGIN IMMEDIATE').run();
console.log('locked');
process.stdin.once('data', () => {
  db.prepare('COMMIT').run();
  db.close();
  process.exit(0);
});
`;

let station: SyncTestStation;
let holder: ChildProcess | undefined;

beforeEach(() => {
  station = new SyncTestStation();
  // The worker's connection gives up on a lock after 20 ms instead of 5 s.
  station.db.pragma('busy_timeout = 20');
});
afterEach(async () => {
  if (holder && holder.exitCode === null) {
    const exited = once(holder, 'exit');
    holder.kill();
    await exited;
  }
  holder = undefined;
  await station.close();
});

/** Another process holding the write lock of the station's file; resolves once it holds it. */
async function lockByAnotherProcess(): Promise<{ release: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', LOCK_HOLDER, join(station.dir, 'station.db')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  holder = child;
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  expect(first).toBe('locked');
  return {
    release: async () => {
      const exited = once(child, 'exit');
      child.stdin!.write('commit\n');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    },
  };
}

describe('the sync worker when another process holds the station database', () => {
  it('says another program holds it, not the disk, and logs that the database is free again', async () => {
    for (const serial of ['SN1', 'SN2']) station.provision(serial);
    const worker = station.worker();
    const log = new SyncLog();
    const lines: string[] = [];
    worker.onStateChange.on((change) => {
      const { lastError, heldUntil } = worker.status();
      const text = log.line(change, lastError, heldUntil);
      if (text !== undefined) lines.push(text);
    });
    const bulk = station.dps.holdNext('bulkEnrollments');
    worker.start();
    await bulk.reached;
    const lock = await lockByAnotherProcess();
    bulk.release();
    await stateReached(worker, 'backoff');

    const error = worker.status().lastError;
    expect(error).toMatchObject({
      code: 'SYNC_STORE_BUSY',
      detail: 'STORE_BUSY: database is locked',
    });
    expect(error?.message).toMatch(/Another program holds the station database/);
    expect(error?.message).toMatch(/tries again by itself/);
    expect(error?.message).not.toMatch(/disk/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^DPS sync: syncing -> backoff: Another program holds the station database[^\n]*\[SYNC_STORE_BUSY\]\n {2}detail: STORE_BUSY: database is locked$/,
    );

    // The lock passes; the next device's batch goes through and the problem is over.
    await lock.release();
    station.provision('SN3');
    await station.clock.advanceToNextTimer();
    await progressReached(worker, (p) => p.counts.synced === 3 && p.state === 'idle');
    const over = lines.find((line) => line.includes('is over'));
    expect(over).toMatch(
      /: the station database is free again; the problem \[SYNC_STORE_BUSY\] logged since \S+ is over/,
    );
    expect(over).not.toMatch(/DPS answers again/);
    expect(worker.status().lastError).toBeUndefined();
  });

  // DPS asked for a minute; the database refused the batch's record; the worker called DPS again
  // after the database's own short backoff.
  it('keeps DPS’s Retry-After when the database refuses to record the batch that received it', async () => {
    station.provision('SN1');
    const worker = station.worker();
    const bulk = station.dps.holdNext('bulkEnrollments');
    station.dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 60_000 });
    const started = station.clock.now();
    worker.start();
    await bulk.reached;
    const lock = await lockByAnotherProcess();
    bulk.release();
    await stateReached(worker, 'backoff');
    expect(worker.status().lastError).toMatchObject({ code: 'SYNC_STORE_BUSY' });
    expect(Date.parse(worker.status().heldUntil ?? '')).toBeGreaterThanOrEqual(started + 60_000);

    await lock.release();
    const calls = () => station.dps.callsOf('bulkEnrollments').length;
    // The database's own backoff (seconds) passes inside the minute: no call before it ends.
    await station.clock.advance(started + 59_000 - station.clock.now());
    expect(calls()).toBe(1);
    await station.clock.advance(2_000);
    await progressReached(worker, (p) => p.counts.synced === 1 && p.state === 'idle');
    expect(calls()).toBe(2);
  });
});
