/**
 * The day's tally of runs in the header: from the store at start (a restarted station goes on
 * from the day's count), one more per run that ends, and a new day at local midnight. The last
 * test drives a real line on a real pty with the SQLite store.
 */
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { DayTally, type RunCounts } from './dayTally.js';
import type { Line, RunEnded } from './line.js';
import type { StationStatus } from './lineController.js';
import {
  nextEvent,
  oneSimulatedDevicePerTest,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';

/** Local times: the tally's day is the workstation's. */
const at = (text: string) => new Date(text).getTime();

function tallyAt(time: string, stored?: (sinceMs: number) => RunCounts) {
  let now = at(time);
  const reads: number[] = [];
  const tally = new DayTally(
    stored &&
      ((sinceMs) => {
        reads.push(sinceMs);
        return stored(sinceMs);
      }),
    () => now,
  );
  return { tally, reads, setTime: (t: string) => void (now = at(t)) };
}

describe('DayTally', () => {
  it("starts from the store's count of the day and adds each run that ends", () => {
    const { tally, reads } = tallyAt('2026-12-06T14:30:00', () => ({
      passed: 400,
      failed: 3,
      cancelled: 1,
    }));
    tally.load();
    expect(reads).toEqual([at('2026-12-06T00:00:00')]);
    const earlier = at('2026-12-06T14:29:00');
    tally.count('pass', earlier);
    tally.count('pass', earlier);
    tally.count('fail', earlier);
    tally.count('cancelled', earlier);
    expect(tally.view()).toEqual({
      since: new Date(at('2026-12-06T00:00:00')).toISOString(),
      passed: 402,
      failed: 4,
      cancelled: 2,
    });
    expect(reads).toHaveLength(1);
  });

  it('starts a new day at local midnight from the store, without counting its first run twice', () => {
    const stored = new Map([
      [at('2026-12-06T00:00:00'), { passed: 10, failed: 0, cancelled: 0 }],
      // The run that ends first after midnight is in the store when the line counts it.
      [at('2026-12-07T00:00:00'), { passed: 1, failed: 0, cancelled: 0 }],
    ]);
    const { tally, setTime } = tallyAt('2026-12-06T23:59:00', (since) => stored.get(since)!);
    tally.load();
    setTime('2026-12-07T00:00:02');
    tally.count('pass', at('2026-12-07T00:00:01'));
    expect(tally.view()).toMatchObject({ passed: 1, failed: 0 });
    tally.count('fail', at('2026-12-07T00:00:01.5'));
    expect(tally.view()).toMatchObject({ passed: 1, failed: 1 });
  });

  it("leaves a run started before midnight to that day, as the store's count does", () => {
    const stored = new Map([
      [at('2026-12-06T00:00:00'), { passed: 10, failed: 0, cancelled: 0 }],
      [at('2026-12-07T00:00:00'), { passed: 0, failed: 0, cancelled: 0 }],
    ]);
    const { tally, setTime } = tallyAt('2026-12-06T23:59:50', (since) => stored.get(since)!);
    tally.load();
    // It ends half a second into the new day, before anything else looked at the tally.
    setTime('2026-12-07T00:00:00.5');
    tally.count('pass', at('2026-12-06T23:59:50'));
    expect(tally.view()).toMatchObject({ passed: 0, failed: 0 });
    // One that ends later, after the status already turned the day, is not counted either.
    setTime('2026-12-07T00:00:05');
    tally.count('fail', at('2026-12-06T23:59:55'));
    expect(tally.view()).toMatchObject({ passed: 0, failed: 0 });
  });

  it('without a store, counts from zero and starts again at midnight', () => {
    const { tally, setTime } = tallyAt('2026-12-06T23:00:00');
    tally.load();
    tally.count('pass', at('2026-12-06T22:59:59'));
    expect(tally.view()).toMatchObject({ passed: 1 });
    setTime('2026-12-07T00:00:01');
    expect(tally.view()).toEqual({
      since: new Date(at('2026-12-07T00:00:00')).toISOString(),
      passed: 0,
      failed: 0,
      cancelled: 0,
    });
    tally.count('fail', at('2026-12-07T00:00:00.5'));
    tally.count('pass', at('2026-12-06T23:59:59'));
    expect(tally.view()).toMatchObject({ passed: 0, failed: 1 });
  });

  it('counts from zero when the store cannot be read, instead of failing the status', () => {
    const { tally } = tallyAt('2026-12-06T09:00:00', () => {
      throw new Error('database is locked');
    });
    tally.load();
    tally.count('pass', at('2026-12-06T08:59:00'));
    expect(tally.view()).toMatchObject({ passed: 1, failed: 0, cancelled: 0 });
  });

  it('calls back a second past each midnight until stopped', () => {
    // The tally's own clock is Date.now, which the fake timers move.
    vi.useFakeTimers({ now: at('2026-12-06T23:59:30') });
    try {
      const tally = new DayTally(undefined);
      let days = 0;
      const stop = tally.everyMidnight(() => (days += 1));
      vi.advanceTimersByTime(30_999);
      expect(days).toBe(0);
      vi.advanceTimersByTime(1);
      expect(days).toBe(1);
      vi.advanceTimersByTime(86_400_000);
      expect(days).toBe(2);
      stop();
      vi.advanceTimersByTime(3 * 86_400_000);
      expect(days).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says how long until the next local midnight', () => {
    const { tally } = tallyAt('2026-12-06T23:59:30');
    expect(tally.msToNextDay()).toBe(30_000);
  });
});

describe("a line's tally of the day", () => {
  const startDevice = oneSimulatedDevicePerTest();
  let line: Line | undefined;
  let db: Database.Database | undefined;
  afterEach(async () => {
    await line?.stop();
    db?.close();
    line = undefined;
    db = undefined;
  });

  it("goes on from the store's runs of the day after a restart, and counts the next run", async () => {
    const device = await startDevice();
    // A profile this device's firmware does not fit: its run fails at once, and is recorded.
    const profile = testProfile({ firmwareVersions: ['9.9.9'] });
    db = openStationDatabase(':memory:');
    const store = new ProvisioningStore(db);
    const record = (startedAt: number, state: 'fail' | 'cancelled') => {
      const runId = store.beginRun('/dev/ttyOLD', profile.name, startedAt, 'auto');
      store.recordFailure(runId, {
        state,
        error: { code: 'RUN_CANCELLED', message: 'earlier' },
        steps: [],
        finishedAt: startedAt + 1_000,
      });
    };
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    // What the station before the restart recorded: two runs today, one yesterday.
    record(Math.max(midnight.getTime(), Date.now() - 60_000), 'fail');
    record(Math.max(midnight.getTime(), Date.now() - 50_000), 'cancelled');
    record(midnight.getTime() - 3_600_000, 'fail');

    line = await testLine({
      profile,
      recorder: store,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'auto',
    });
    const statuses: StationStatus[] = [];
    line.onStatusChanged.on((status) => statuses.push(status));
    const ended = within<RunEnded>(15_000, nextEvent(line.onRunEnded));
    await line.start();
    expect((await ended)?.outcome.state).toBe('fail');
    const today = { since: midnight.toISOString(), passed: 0, failed: 2, cancelled: 1 };
    expect(line.status().today).toEqual(today);
    // Every UI hears of the run in the status it already draws.
    await expect.poll(() => statuses.at(-1)?.today).toEqual(today);
  });
});
