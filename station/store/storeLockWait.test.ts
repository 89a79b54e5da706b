/**
 * A running station's writes and another program's lock, and a full disk under the CA's
 * ledger: the write waits on a timer, never inside SQLite, and what cannot be written is a
 * StoreError with the station's text, never SQLite's. Real parts: the station database on a
 * real file, its lock held by a real `sqlite3` process, the database filled as a full disk
 * fills it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError, storeErrorText } from './storeError.js';
import { waitOutStoreLock } from './storeLockWait.js';
import { canMountSmallDisk, smallDisk, type SmallDisk } from './testing/smallDisk.js';
import { latenessProbe } from './testing/latenessProbe.js';
import { endLockHolders, holdWriteLock } from './testing/sqliteLockHolder.js';
import { stationOnDisk, type StationOnDisk } from './testing/stationOnDisk.js';

let station: StationOnDisk | undefined;
let disk: SmallDisk | undefined;
afterEach(async () => {
  await endLockHolders();
  disk?.free();
  await station?.dispose();
  await disk?.dispose();
  station = disk = undefined;
});

/** What `promise` rejected with. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('it was not refused'),
    (err: unknown) => err,
  );
}

describe('waiting out a lock another program holds', () => {
  it('fails STORE_BUSY after its wait, saying another program holds the database, its event loop free meanwhile', async () => {
    station = await stationOnDisk();
    const { store } = station;
    const lock = await holdWriteLock(station.path);
    const probe = latenessProbe();
    const started = performance.now();
    const err = await refusal(
      waitOutStoreLock(() => store.beginRun('/dev/ttyUSB0', 'line7', Date.now()), {
        maxWaitMs: 1_500,
      }),
    );
    const waited = performance.now() - started;
    const worst = probe.stop();
    await lock.release();

    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_BUSY', message: storeErrorText.STORE_BUSY });
    expect((err as StoreError).message).toMatch(/^Another program holds the station database/);
    expect((err as StoreError).detail).toMatch(/still held the lock after 1\.5 s/);
    expect(waited).toBeGreaterThanOrEqual(1_400);
    // SQLite's own wait (busy_timeout 5000) held the whole process for 5 s; a loaded machine
    // may still run a free loop's timer late by some hundreds of ms.
    expect(worst).toBeLessThan(2_000);
    // Once the lock is gone the same write goes through.
    expect(store.beginRun('/dev/ttyUSB0', 'line7', Date.now())).toBeGreaterThan(0);
  });

  it('writes as soon as the lock goes, within its wait', async () => {
    station = await stationOnDisk();
    const { store } = station;
    const lock = await holdWriteLock(station.path);
    let tries = 0;
    let triedAgain!: () => void;
    const secondTry = new Promise<void>((resolve) => (triedAgain = resolve));
    const opened = waitOutStoreLock(() => {
      if (++tries === 2) triedAgain();
      return store.beginRun('/dev/ttyUSB0', 'line7', Date.now());
    });
    // A try refused and the wait went on, then the supervisor's command ends.
    await secondTry;
    await lock.release();
    expect(await opened).toBeGreaterThan(0);
  });
});

describe("the CA's ledger in a running station", () => {
  it('records a certificate issued under a lock once it goes; a lock past its wait is STORE_BUSY, not SQLite text', async () => {
    station = await stationOnDisk({ lockWait: { maxWaitMs: 800 } });
    const { ca } = station;
    const lock = await holdWriteLock(station.path);
    const err = await refusal(ca.issueWithStationKey({ registrationId: 'dev-locked' }));
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_BUSY', message: storeErrorText.STORE_BUSY });
    expect((err as StoreError).detail).toMatch(/^record certificate [0-9a-f]+: database is locked/);

    const issued = ca.issueWithStationKey({ registrationId: 'dev-waits' });
    await lock.release();
    const { serialNumber } = await issued;
    expect(station.ledger.get(serialNumber)).toMatchObject({ status: 'issued' });
  });

  it.runIf(canMountSmallDisk)(
    'refuses a certificate on a full disk with STORE_WRITE_FAILED and its text, SQLite’s in the detail',
    async () => {
      disk = await smallDisk();
      station = await stationOnDisk({ under: disk.dir });
      // An empty WAL: the next write must grow it, and the disk has no block left for it.
      station.db.pragma('wal_checkpoint(TRUNCATE)');
      disk.fill();
      const err = await refusal(station.ca.issueWithStationKey({ registrationId: 'dev-full' }));
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({
        code: 'STORE_WRITE_FAILED',
        message: storeErrorText.STORE_WRITE_FAILED,
      });
      expect((err as StoreError).detail).toMatch(/database or disk is full$/);
      disk.free();
      const { serialNumber } = await station.ca.issueWithStationKey({ registrationId: 'dev-room' });
      expect(station.ledger.get(serialNumber)).toMatchObject({ status: 'issued' });
    },
  );
});
