import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordFailureSafely } from '../../station/line/runRecords.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { beginDevice, fillDatabase, MORE_THAN_A_PAGE, runAndCertificate } from './storeFaults.js';

let dir: string;
let db: Database.Database;
let store: ProvisioningStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ls-full-'));
  db = openStationDatabase(join(dir, 'station.db'));
  store = new ProvisioningStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A failure whose detail (a long wire trace) needs new pages too. */
const failure = (code: string) => ({
  state: 'fail' as const,
  error: { code, message: 'The device failed.', detail: 'trace '.repeat(MORE_THAN_A_PAGE / 6) },
  steps: [],
  finishedAt: Date.now(),
});

describe('the store when the disk fills up', () => {
  it('refuses the commit with a code, writes nothing of it, and records the failure once there is room', async () => {
    store.commitPass(beginDevice(db, store, 'SN-1'));
    const device = beginDevice(db, store, 'SN-2');
    const giveRoomBack = fillDatabase(db);

    expect(() => store.commitPass(device)).toThrow(
      expect.objectContaining({
        code: 'STORE_WRITE_FAILED',
        message: expect.stringContaining('Check disk space'),
        detail: `commit run ${device.runId}: database or disk is full`,
      }),
    );
    // The line then records the failure, which the full disk refuses as well.
    const failed = {
      ...failure('STORE_WRITE_FAILED'),
      certificateSerial: device.certificateSerial,
    };
    expect(() => store.recordFailure(device.runId, failed)).toThrow(
      expect.objectContaining({ code: 'STORE_WRITE_FAILED' }),
    );
    expect(runAndCertificate(db, device)).toEqual({
      state: 'running',
      errorCode: null,
      certificate: 'issued',
      enrollments: 0,
    });

    giveRoomBack();
    // The next device's run goes through, and the failure held back is written first.
    store.commitPass(beginDevice(db, store, 'SN-3'));
    expect(runAndCertificate(db, device)).toEqual({
      state: 'fail',
      errorCode: 'STORE_WRITE_FAILED',
      certificate: 'abandoned',
      enrollments: 0,
    });
    expect(store.outboxCounts()).toMatchObject({ pending: 2 });
    expect(store.audit('run.failed')).toHaveLength(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });

  it('keeps a held failure through further refusals, and drops it if its run ended meanwhile', () => {
    const first = beginDevice(db, store, 'SN-1');
    const second = beginDevice(db, store, 'SN-2');
    const giveRoomBack = fillDatabase(db);
    for (const device of [first, second]) {
      expect(() => store.recordFailure(device.runId, failure('WIRE_TIMEOUT'))).toThrow(
        expect.objectContaining({ code: 'STORE_WRITE_FAILED' }),
      );
    }
    // Still full: the held failures wait, and the next commit is refused as before.
    expect(() => store.commitPass(beginDevice(db, store, 'SN-3'))).toThrow(
      expect.objectContaining({ code: 'STORE_WRITE_FAILED' }),
    );
    giveRoomBack();
    // Another station process on this folder ended the second run meanwhile.
    new ProvisioningStore(db).recordFailure(second.runId, {
      ...failure('RUN_CANCELLED'),
      state: 'cancelled',
    });
    store.beginRun('/dev/ttyUSB1', 'line7', Date.now());
    expect(runAndCertificate(db, first)).toMatchObject({
      state: 'fail',
      errorCode: 'WIRE_TIMEOUT',
    });
    expect(runAndCertificate(db, second)).toMatchObject({
      state: 'cancelled',
      errorCode: 'RUN_CANCELLED',
    });
  });

  it('writes a held failure as it was, without the note the line added when it was refused', async () => {
    const device = beginDevice(db, store, 'SN-1');
    const giveRoomBack = fillDatabase(db);
    const outcome = failure('WIRE_TIMEOUT');
    const detail = outcome.error.detail;
    await recordFailureSafely(store, device.runId, outcome);
    expect(outcome.error.detail).toContain('[failure not recorded: STORE_WRITE_FAILED');
    giveRoomBack();
    store.beginRun('/dev/ttyUSB1', 'line7', Date.now());
    const stored = db
      .prepare('SELECT error_detail AS detail FROM runs WHERE id = ?')
      .get(device.runId) as { detail: string };
    expect(stored.detail).toBe(detail);
  });
});
