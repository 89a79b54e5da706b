/**
 * Another process writing the station database (a supervisor's `station bundle receive` or
 * `queue requeue`) tells the line nothing: its outbox counts catch up on their own, read only
 * when the database changed and told to the UIs only when they changed. Real parts: the store on
 * a real file and a second connection to it, as another process has.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { closeStationDatabase, openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { Line } from './line.js';
import type { OutboxCounts } from './lineTypes.js';
import { nextEvent, testLine, within } from './testing/lineTestKit.js';

const LOOK_MS = 20;

let station: StationOnDisk | undefined;
let other: Database.Database | undefined;
let line: Line | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  if (other?.open) closeStationDatabase(other);
  await station?.dispose();
  line = other = station = undefined;
});

/** Another process's connection to the station database, and a PASS it records there. */
function anotherProcess(path: string) {
  other = openStationDatabase(path);
  const store = new ProvisioningStore(other);
  const db = other;
  return {
    store,
    async recordPass(serial: string): Promise<void> {
      const runId = store.beginRun('/dev/ttyUSB9', 'line7', Date.now());
      recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`);
      await store.commitPass(passedRun(runId, serial, { registrationId: `reg-${runId}` }));
    },
  };
}

describe("the line's outbox counts when another process writes the database", () => {
  it('catch up without a PASS or a sync, read only after a change, told only when they differ', async () => {
    station = await stationOnDisk();
    line = await testLine({ ca: station.ca, recorder: station.recorder, outboxRefreshMs: LOOK_MS });
    await line.start();
    const told: OutboxCounts[] = [];
    line.onOutboxChanged.on((counts) => told.push(counts));
    const reads = vi.spyOn(station.store, 'outboxCounts');
    const supervisor = anotherProcess(station.path);

    const caughtUp = within(2000, nextEvent(line.onOutboxChanged));
    await supervisor.recordPass('SN-1');
    expect(await caughtUp).toMatchObject({ pending: 1 });
    expect(line.outboxCounts()).toMatchObject({ pending: 1 });

    // Nothing written since: the looks read no counts and tell nothing.
    reads.mockClear();
    await sleep(LOOK_MS * 5);
    expect(reads).not.toHaveBeenCalled();
    // A write that leaves the outbox as it was (a run opened) is read, and told to nobody.
    supervisor.store.beginRun('/dev/ttyUSB9', 'line7', Date.now());
    await vi.waitFor(() => expect(reads).toHaveBeenCalled(), { timeout: 2000 });
    await sleep(LOOK_MS * 3);
    expect(told).toHaveLength(1);
  });

  it('are no longer looked at once the line stopped', async () => {
    station = await stationOnDisk();
    line = await testLine({ ca: station.ca, recorder: station.recorder, outboxRefreshMs: LOOK_MS });
    await line.start();
    const told: OutboxCounts[] = [];
    line.onOutboxChanged.on((counts) => told.push(counts));
    await line.stop();
    await anotherProcess(station.path).recordPass('SN-1');
    await sleep(LOOK_MS * 5);
    expect(told).toEqual([]);
  });
});
