/**
 * What a technician sees when the station database refuses (a full disk, another program's
 * lock): the store's code and text, never SQLite's; and a run refused at its very start is
 * still recorded once the disk has room, so the shift's record and the day's tally agree
 * across a restart. Real parts: the store and the CA's ledger on a real file on a real small
 * disk that fills, simulated devices on real ptys.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import { StoreError, storeErrorText } from '../store/storeError.js';
import { canMountSmallDisk, smallDisk, type SmallDisk } from '../store/testing/smallDisk.js';
import { endLockHolders, holdWriteLock } from '../store/testing/sqliteLockHolder.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { Line } from './line.js';
import { runErrorText, toCodedError } from './runErrors.js';
import {
  nextEvent,
  oneSimulatedDevicePerTest,
  slotReaches,
  testLine,
  testProfile,
} from './testing/lineTestKit.js';

const startDevice = oneSimulatedDevicePerTest();
let disk: SmallDisk | undefined;
let station: StationOnDisk | undefined;
const lines: Line[] = [];
afterEach(async () => {
  for (const line of lines.splice(0)) await line.stop();
  await endLockHolders();
  disk?.free();
  await station?.dispose();
  await disk?.dispose();
  station = disk = undefined;
});

/** A station whose data folder is on a small disk, and a manual line on `port`. */
async function lineOnSmallDisk(port: string): Promise<Line> {
  disk = await smallDisk();
  station = await stationOnDisk({ under: disk.dir });
  return startLine(port);
}

async function startLine(port: string): Promise<Line> {
  const line = await testLine({
    profile: testProfile({ duplicates: 'reprovision' }),
    ca: station!.ca,
    recorder: station!.store,
    ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
  });
  lines.push(line);
  await line.start();
  return line;
}

/** Fills the disk so that the station's next write fails SQLITE_FULL. */
function fillDisk(): void {
  // An empty WAL: the next write must grow it, and the disk has no block left for it.
  station!.db.pragma('wal_checkpoint(TRUNCATE)');
  disk!.fill();
}

describe('a full disk on the line', () => {
  it.runIf(canMountSmallDisk)(
    'during certificate issuance fails the slot STORE_WRITE_FAILED with its text, not SQLite’s',
    async () => {
      const device = await startDevice();
      const line = await lineOnSmallDisk(device.hostPath);
      // The disk fills while the device makes its key: the run is open, its certificate is not.
      const attesting = nextEvent(line.onSlotChanged, (v) => v.step === 'attest');
      const failed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      line.provision(1);
      await attesting;
      fillDisk();
      const view = await failed;
      expect(view.error).toMatchObject({
        code: 'STORE_WRITE_FAILED',
        message: storeErrorText.STORE_WRITE_FAILED,
      });
      expect(view.error!.message).not.toMatch(/SQLITE|database or disk is full/);
      expect(view.error!.detail).toMatch(/^record certificate [0-9a-f]+: database or disk is full/);
    },
  );

  it.runIf(canMountSmallDisk)(
    'at the start of a run records that run once there is room, so a restart counts it too',
    async () => {
      const device = await startDevice();
      const line = await lineOnSmallDisk(device.hostPath);
      fillDisk();
      const refused = nextEvent(line.onRunEnded);
      line.provision(1);
      expect((await refused).outcome).toMatchObject({
        state: 'fail',
        error: { code: 'STORE_WRITE_FAILED' },
      });
      const view = line.slots()[0]!;
      expect(view).toMatchObject({ state: 'fail', error: { code: 'STORE_WRITE_FAILED' } });
      expect(view.runId).toBeUndefined();
      expect(line.status().today).toMatchObject({ passed: 0, failed: 1 });

      // Room again: the next device's run records the refused one first.
      disk!.free();
      const passed = nextEvent(line.onRunEnded);
      line.provision(1);
      expect((await passed).outcome).toMatchObject({ state: 'pass' });
      const today = line.status().today;
      expect(today).toMatchObject({ passed: 1, failed: 1 });

      const runs = station!.store.runs();
      expect(runs.map((r) => [r.state, r.error?.code ?? null, r.port])).toEqual([
        ['pass', null, device.hostPath],
        ['fail', 'STORE_WRITE_FAILED', device.hostPath],
      ]);
      expect(runs[1]).toMatchObject({
        serialNumber: device.serialNumber,
        startedBy: 'operator',
        error: { message: storeErrorText.STORE_WRITE_FAILED },
      });
      expect(runs[1]!.steps.map((s) => s.step)).toEqual(['identify']);
      expect(station!.store.audit('run.failed')).toMatchObject([
        { subject: `run:${runs[1]!.id}`, detail: { code: 'STORE_WRITE_FAILED' } },
      ]);

      // A restart reads the day's tally back from the store: the same as before it.
      await lines.pop()!.stop();
      const restarted = await startLine(device.hostPath);
      expect(restarted.status().today).toEqual(today);
    },
  );
});

describe('toCodedError', () => {
  it("passes the station's own coded errors as they are", () => {
    const wire = new WireError('WIRE_TIMEOUT', 'GEN_KEY_CSR #2: no answer');
    expect(toCodedError(wire)).toEqual(wire.toJSON());
    const store = new StoreError('STORE_BUSY', 'begin run: database is locked');
    expect(toCodedError(store)).toEqual(store.toJSON());
  });

  it('turns a real SqliteError into the store’s code, SQLite’s text only in the detail', async () => {
    station = await stationOnDisk();
    const lock = await holdWriteLock(station.path);
    let raw: unknown;
    try {
      station.db
        .prepare(
          `INSERT INTO audit_events (at, actor, kind, subject, detail)
        VALUES ('2026-12-06T00:00:00Z', 'station', 'test', 'x', '{}')`,
        )
        .run();
    } catch (err) {
      raw = err;
    }
    await lock.release();
    expect(raw).toMatchObject({ code: 'SQLITE_BUSY', message: 'database is locked' });
    expect(toCodedError(raw)).toEqual({
      code: 'STORE_BUSY',
      message: storeErrorText.STORE_BUSY,
      detail: 'station database: database is locked',
    });
  });

  it('turns a real SqliteError SQLite raised for a constraint or a statement (a station bug) into RUN_INTERNAL, never a disk to check', async () => {
    station = await stationOnDisk();
    const raised = (sql: string): unknown => {
      try {
        station!.db.prepare(sql).run();
      } catch (err) {
        return err;
      }
      return expect.fail(`${sql} was taken`);
    };
    // A run `running` with an end breaks the runs table's CHECK.
    const constraint = raised(
      `INSERT INTO runs (port, profile, state, started_at, finished_at)
        VALUES ('/dev/ttyUSB0', 'line7', 'running', '2026-12-06T00:00:00Z', '2026-12-06T00:01:00Z')`,
    );
    const statement = raised(`UPDATE no_such_table SET x = 1`);
    expect(constraint).toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
    expect(statement).toMatchObject({ code: 'SQLITE_ERROR' });
    for (const raw of [constraint, statement]) {
      const { code, message } = raw as { code: string; message: string };
      expect(toCodedError(raw)).toEqual({
        code: 'RUN_INTERNAL',
        message: runErrorText.RUN_INTERNAL,
        detail: `SqliteError ${code}: ${message}`,
      });
    }
  });

  it('turns any other error with a code, however upper-case, into RUN_INTERNAL', () => {
    let errno: unknown;
    try {
      readFileSync('/nonexistent/line-station');
    } catch (err) {
      errno = err;
    }
    expect(toCodedError(errno)).toMatchObject({
      code: 'RUN_INTERNAL',
      message: runErrorText.RUN_INTERNAL,
      detail: expect.stringMatching(/^Error ENOENT: ENOENT: no such file/),
    });
    const foreign = Object.assign(new Error('raw text from a library'), { code: 'NOT_OURS' });
    expect(toCodedError(foreign)).toEqual({
      code: 'RUN_INTERNAL',
      message: runErrorText.RUN_INTERNAL,
      detail: 'Error NOT_OURS: raw text from a library',
    });
  });
});
