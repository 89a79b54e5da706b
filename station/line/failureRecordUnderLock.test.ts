/**
 * A failure recorded while another program holds the station database: the line waits out the
 * lock and records it once, and says it was not recorded only when it was not. Real parts: the
 * store on a real file, the lock held by a second real connection inside BEGIN IMMEDIATE.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isStoreBusy } from '../store/storeError.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { FailedRunOutcome } from './runRecorder.js';
import { recordFailureSafely } from './runRecords.js';

let station: StationOnDisk | undefined;
let other: Database.Database | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  if (other?.inTransaction) other.exec('ROLLBACK');
  other?.close();
  await station?.dispose();
  station = other = undefined;
});

describe('a failure recorded while another program holds the database', () => {
  it('is recorded once, by its own wait, though another slot writes between its tries', async () => {
    station = await stationOnDisk();
    const { store, db, recorder } = station;
    const failed = store.beginRun('/dev/ttyUSB0', 'line7', Date.now());
    other = new Database(station.path);
    other.exec('BEGIN IMMEDIATE');
    // The first refusal of the failure's record, as the record's wait goes to sleep.
    const refused = new Promise<void>((resolve) => {
      const original = store.recordFailure.bind(store);
      vi.spyOn(store, 'recordFailure').mockImplementation((...args) => {
        try {
          original(...args);
        } catch (err) {
          if (isStoreBusy(err)) resolve();
          throw err;
        }
      });
    });
    const outcome: FailedRunOutcome = {
      state: 'fail',
      error: { code: 'WIRE_TIMEOUT', message: 'no answer', detail: 'GEN_KEY_CSR #2' },
      device: { serialNumber: 'SN-1', model: 'LS-100' },
      steps: [],
      finishedAt: Date.now(),
    };
    const recording = recordFailureSafely(recorder, failed, outcome);
    await refused;
    // Before the wait's next try: the program ends, and another slot opens its run.
    other.exec('COMMIT');
    store.beginRun('/dev/ttyUSB1', 'line7', Date.now());
    await recording;

    expect(outcome.error.detail).toBe('GEN_KEY_CSR #2');
    expect(store.run(failed)).toMatchObject({
      state: 'fail',
      error: { code: 'WIRE_TIMEOUT', detail: 'GEN_KEY_CSR #2' },
    });
    const recorded = db
      .prepare(`SELECT count(*) AS n FROM audit_events WHERE kind = 'run.failed'`)
      .get() as { n: number };
    expect(recorded.n).toBe(1);
  });
});
