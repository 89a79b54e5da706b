/**
 * The recent-runs list as a Line answers it from the real SQLite store: ended runs only, newest
 * first, cut to the limit, the failures alone when asked, each failure with its error; read down
 * an index that stops at the limit. A run the line itself ends is in the list by the time its
 * slot shows the end, which is what the UI's refresh on that slot event relies on.
 */
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { RECENT_ENDED_RUNS_SQL, RECENT_FAILED_RUNS_SQL } from '../store/runHistory.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import type { Line } from './line.js';
import type { RunView } from './lineTypes.js';
import {
  InMemoryRunRecorder,
  nextEvent,
  oneSimulatedDevicePerTest,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';

const T0 = Date.UTC(2026, 0, 5, 6);
const at = (ms: number) => new Date(ms).toISOString();

let db: Database.Database | undefined;
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  db?.close();
  line = undefined;
  db = undefined;
});

function openStore(): ProvisioningStore {
  db = openStationDatabase(':memory:');
  return new ProvisioningStore(db);
}

/**
 * Six runs, a minute apart: 1 pass, 2 fail (a known device), 3 still running, 4 cancelled
 * before the device said who it was, 5 fail (no device), 6 still running.
 */
function seededStore(): ProvisioningStore {
  const store = openStore();
  const begin = (n: number, port: string) => store.beginRun(port, 'line7', T0 + n * 60_000, 'auto');
  const first = begin(1, '/dev/ttyUSB0');
  recordIssuedCertificate(db!, `c-${first}`, 'reg-sn-1');
  store.commitPass(
    passedRun(first, 'SN-1', { port: '/dev/ttyUSB0', finishedAt: T0 + 60_000 + 9_000 }),
  );
  store.recordFailure(begin(2, '/dev/ttyUSB1'), {
    state: 'fail',
    error: {
      code: 'CSR_SUBJECT_MISMATCH',
      message: 'The device asked for a certificate with the wrong name. Set it aside.',
      detail: 'CN "LS-EVIL"',
    },
    device: { serialNumber: 'SN-2', model: 'LS-100' },
    registrationId: 'reg-sn-2',
    steps: [],
    finishedAt: T0 + 120_000 + 4_000,
  });
  begin(3, '/dev/ttyUSB2');
  store.recordFailure(begin(4, '/dev/ttyUSB3'), {
    state: 'cancelled',
    error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
    steps: [],
    finishedAt: T0 + 240_000 + 1_000,
  });
  store.recordFailure(begin(5, '/dev/ttyUSB0'), {
    state: 'fail',
    error: { code: 'WIRE_TIMEOUT', message: 'The device stopped answering.' },
    steps: [],
    finishedAt: T0 + 300_000 + 2_000,
  });
  begin(6, '/dev/ttyUSB1');
  return store;
}

const ids = (runs: RunView[]) => runs.map((run) => run.runId);

describe("a line's recent runs", () => {
  it('lists the ended runs newest first, none still running, with what the store knows', async () => {
    line = await testLine({ recorder: seededStore() });
    const runs = line.recentRuns({ limit: 20, failedOnly: false });
    expect(ids(runs)).toEqual([5, 4, 2, 1]);
    // Strict: what is not known is left out, not null or undefined.
    expect(runs).toStrictEqual([
      {
        runId: 5,
        port: '/dev/ttyUSB0',
        state: 'fail',
        startedAt: at(T0 + 300_000),
        finishedAt: at(T0 + 302_000),
        error: { code: 'WIRE_TIMEOUT', message: 'The device stopped answering.' },
      },
      {
        runId: 4,
        port: '/dev/ttyUSB3',
        state: 'cancelled',
        startedAt: at(T0 + 240_000),
        finishedAt: at(T0 + 241_000),
        error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
      },
      {
        runId: 2,
        port: '/dev/ttyUSB1',
        state: 'fail',
        startedAt: at(T0 + 120_000),
        finishedAt: at(T0 + 124_000),
        serialNumber: 'SN-2',
        model: 'LS-100',
        registrationId: 'reg-sn-2',
        error: {
          code: 'CSR_SUBJECT_MISMATCH',
          message: 'The device asked for a certificate with the wrong name. Set it aside.',
          detail: 'CN "LS-EVIL"',
        },
      },
      {
        runId: 1,
        port: '/dev/ttyUSB0',
        state: 'pass',
        startedAt: at(T0 + 60_000),
        finishedAt: at(T0 + 69_000),
        serialNumber: 'SN-1',
        model: 'LS-100',
        registrationId: 'reg-sn-1',
      },
    ]);
  });

  it('stops at the limit, and lists only the failed runs when asked', async () => {
    line = await testLine({ recorder: seededStore() });
    expect(ids(line.recentRuns({ limit: 2, failedOnly: false }))).toEqual([5, 4]);
    expect(ids(line.recentRuns({ limit: 20, failedOnly: true }))).toEqual([5, 4, 2]);
    expect(ids(line.recentRuns({ limit: 1, failedOnly: true }))).toEqual([5]);
  });

  it('reads newest first down the primary key or runs_by_state, never sorting every run', () => {
    seededStore();
    const plan = (sql: string) =>
      (db!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ limit: 20 }) as { detail: string }[])
        .map((row) => row.detail)
        .join('\n');
    // The primary key in reverse, so the walk ends at the limit: no index holds the runs that
    // are not running, and one on the state would have to be read whole and sorted.
    const ended = plan(RECENT_ENDED_RUNS_SQL);
    expect(ended).toMatch(/^SCAN r$/m);
    expect(ended).not.toMatch(/TEMP B-TREE|runs_by_state/);
    // Each of the two states down runs_by_state, to the limit; only those two short lists are
    // sorted, to merge them. No scan of the runs.
    const failed = plan(RECENT_FAILED_RUNS_SQL);
    expect(failed.match(/SEARCH r USING INDEX runs_by_state \(state=\?\)/g)).toHaveLength(2);
    expect(failed).toContain('MERGE (UNION ALL)');
    expect(failed).not.toMatch(/SCAN r\b/);
  });

  it("says so in the store's words when the store cannot be read", async () => {
    line = await testLine({ recorder: seededStore() });
    db!.close();
    expect(() => line!.recentRuns({ limit: 20, failedOnly: false })).toThrow(
      expect.objectContaining({ code: 'STORE_READ_FAILED' }),
    );
    db = undefined;
  });

  it('lists none from a recorder that keeps no history', async () => {
    line = await testLine({ recorder: new InMemoryRunRecorder() });
    expect(line.recentRuns({ limit: 20, failedOnly: false })).toEqual([]);
  });

  describe('a run the line ends', () => {
    const startDevice = oneSimulatedDevicePerTest();

    it('is listed first, with its device and error, when its slot shows that it ended', async () => {
      const device = await startDevice();
      const store = seededStore();
      // A firmware the profile does not allow: the run fails after IDENTIFY, naming the device.
      line = await testLine({
        profile: testProfile({ firmwareVersions: ['9.9.9'] }),
        recorder: store,
        ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
        mode: 'auto',
      });
      const live = line;
      // Read in the listener, as the slot event goes out: a UI asks on that event.
      let runs: RunView[] = [];
      const failed = within(
        15_000,
        nextEvent(live.onSlotChanged, (slot) => {
          if (slot.state !== 'fail') return false;
          runs = live.recentRuns({ limit: 3, failedOnly: true });
          return true;
        }),
      );
      await live.start();
      expect((await failed)?.runId).toBe(7);
      expect(ids(runs)).toEqual([7, 5, 4]);
      expect(runs[0]).toMatchObject({
        port: device.hostPath,
        state: 'fail',
        serialNumber: device.serialNumber,
        error: { code: 'RUN_FIRMWARE_NOT_ALLOWED' },
      });
    });
  });
});
