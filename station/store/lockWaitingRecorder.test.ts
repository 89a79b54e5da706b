/**
 * The line's recorder in a running station: each write the line makes waits out another
 * program's lock on a timer and goes through once it goes; a wait to open a run ends at its
 * signal; a lock held past the wait is STORE_BUSY saying so. Real parts: the station database on
 * a real file, its lock held by a real `sqlite3` process.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRunRecorder } from '../demo/inMemoryRunRecorder.js';
import type { FailedRunOutcome } from '../line/runRecorder.js';
import { LockWaitingRecorder } from './lockWaitingRecorder.js';
import type { ProvisioningStore } from './provisioningStore.js';
import { isStoreBusy, StoreError } from './storeError.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';
import { endLockHolders, holdWriteLock } from './testing/sqliteLockHolder.js';
import { stationOnDisk, type StationOnDisk } from './testing/stationOnDisk.js';

let station: StationOnDisk | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await endLockHolders();
  await station?.dispose();
  station = undefined;
});

/** Resolves at the first STORE_BUSY refusal of `store`'s `write`: a try met the lock. */
function firstRefusal(
  store: ProvisioningStore,
  write: 'beginRun' | 'commitPass' | 'recordFailure',
): Promise<void> {
  const original = store[write].bind(store) as (...args: unknown[]) => unknown;
  return new Promise((resolve) => {
    vi.spyOn(store, write).mockImplementation((...args: unknown[]) => {
      try {
        return original(...args) as never;
      } catch (err) {
        if (isStoreBusy(err)) resolve();
        throw err;
      }
    });
  });
}

/** A run opened under port /dev/ttyUSB3 with its certificate issued, ready to pass. */
function issuedRun(s: StationOnDisk, serial: string): number {
  const runId = s.store.beginRun('/dev/ttyUSB3', 'line7', Date.now(), 'operator');
  recordIssuedCertificate(s.db, `c-${runId}`, `reg-${serial.toLowerCase()}`);
  return runId;
}

const timedOut: FailedRunOutcome = {
  state: 'fail',
  error: { code: 'WIRE_TIMEOUT', message: 'no answer', detail: 'GEN_KEY_CSR #2' },
  steps: [],
  finishedAt: Date.now(),
};

describe('the lock-waiting recorder', () => {
  it('opens, commits and ends runs once another program lets go of the lock, each refused till then', async () => {
    station = await stationOnDisk();
    const { store, recorder } = station;
    const passing = issuedRun(station, 'SN-1');
    const failing = store.beginRun('/dev/ttyUSB2', 'line7', Date.now(), 'auto');
    const refused = Promise.all([
      firstRefusal(store, 'beginRun'),
      firstRefusal(store, 'commitPass'),
      firstRefusal(store, 'recordFailure'),
    ]);
    const lock = await holdWriteLock(station.path);
    const opening = recorder.beginRun('/dev/ttyUSB0', 'line7', Date.now(), 'operator');
    const committing = recorder.commitPass(passedRun(passing, 'SN-1'));
    const ending = recorder.recordFailure(failing, structuredClone(timedOut));
    await refused;
    await lock.release();

    const opened = await opening;
    await Promise.all([committing, ending]);
    expect(store.run(opened)).toMatchObject({ state: 'running', startedBy: 'operator' });
    expect(store.run(passing)).toMatchObject({ state: 'pass' });
    expect(store.run(failing)).toMatchObject({ state: 'fail', error: { code: 'WIRE_TIMEOUT' } });
    // Its reads are the store's.
    expect(recorder.recentRuns?.({ limit: 10, failedOnly: false })).toEqual(
      store.recentRuns({ limit: 10, failedOnly: false }),
    );
  });

  it('ends a wait to open a run at its signal, with its reason, and opens none', async () => {
    station = await stationOnDisk();
    const { store, recorder } = station;
    const refused = firstRefusal(store, 'beginRun');
    const lock = await holdWriteLock(station.path);
    const ends = new AbortController();
    const opening = recorder.beginRun('/dev/ttyUSB0', 'line7', Date.now(), 'auto', undefined, {
      signal: ends.signal,
    });
    await refused;
    const unplugged = new Error('the device link closed before its run opened');
    ends.abort(unplugged);
    // Well within the wait's 20 s (and this test's 5 s).
    await expect(opening).rejects.toBe(unplugged);
    await lock.release();
    expect(store.runs()).toEqual([]);
  });

  it('gives a commit up after its wait: STORE_BUSY saying how long another program held the lock', async () => {
    station = await stationOnDisk({ lockWait: { maxWaitMs: 300 } });
    const { store, recorder } = station;
    const runId = issuedRun(station, 'SN-1');
    const lock = await holdWriteLock(station.path);
    const err = await recorder.commitPass(passedRun(runId, 'SN-1')).then(
      () => expect.fail('it was committed under the lock'),
      (refusal: unknown) => refusal,
    );
    await lock.release();
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({
      code: 'STORE_BUSY',
      detail: expect.stringMatching(/^commit run \d+: .*still held the lock after 0\.3 s/),
    });
    expect(store.run(runId)).toMatchObject({ state: 'running' });
  });

  it('has the optional parts of the recorder it wraps, and only those', () => {
    const memory = new LockWaitingRecorder(new InMemoryRunRecorder());
    expect(memory.findEndorsementKeyElsewhere).toBeTypeOf('function');
    for (const part of [
      memory.failedRunsInARow,
      memory.runCountsSince,
      memory.recentRuns,
      memory.lastPassesByPort,
      memory.heldBoardsByPort,
      memory.recordRefusedStart,
    ]) {
      expect(part).toBeUndefined();
    }
  });
});
