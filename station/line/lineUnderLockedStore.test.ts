/**
 * Another program holding the station database (a supervisor's command, sqlite3) must never
 * become device or cable failures: the line waits for the lock on a timer, its event loop free
 * for the other slots' devices and the UI, and the runs pass once the lock goes. Real parts: the
 * store and the CA's ledger on a real file, the lock held by a real `sqlite3` process, simulated
 * devices on real ptys.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import { latenessProbe } from '../store/testing/latenessProbe.js';
import { endLockHolders, holdWriteLock } from '../store/testing/sqliteLockHolder.js';
import { isStoreBusy } from '../store/storeError.js';
import type { Line } from './line.js';
import {
  events,
  nextEvent,
  nextLost,
  slotReaches,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';
import type { RunEnded } from './line.js';

let simulator: Simulator | undefined;
let station: StationOnDisk | undefined;
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  await endLockHolders();
  await simulator?.stop();
  await station?.dispose();
  line = simulator = station = undefined;
});

/**
 * Emits "what port" each time one of `station`'s writes is refused STORE_BUSY: the store's run
 * start and commit (by port), and the CA ledger's record of a certificate ("certificate SERIAL").
 */
function lockMeetings(s: StationOnDisk): TypedEvent<string> {
  const met = new TypedEvent<string>();
  const watch = <A extends unknown[], R>(
    call: (...args: A) => R,
    what: (...args: A) => string,
  ): ((...args: A) => R) => {
    return (...args: A) => {
      try {
        return call(...args);
      } catch (err) {
        if (isStoreBusy(err)) met.emit(what(...args));
        throw err;
      }
    };
  };
  const { store, ledger } = s;
  // The originals, taken before the spies replace them.
  const beginRun = watch(store.beginRun.bind(store), (port) => `begin ${port}`);
  const commitPass = watch(store.commitPass.bind(store), (record) => `commit ${record.port}`);
  const record = watch(ledger.record.bind(ledger), (entry) => `certificate ${entry.serialNumber}`);
  vi.spyOn(store, 'beginRun').mockImplementation(beginRun);
  vi.spyOn(store, 'commitPass').mockImplementation(commitPass);
  vi.spyOn(ledger, 'record').mockImplementation(record);
  return met;
}

/**
 * Resolves once `met` has emitted, for each of `wanted`, as many things satisfying its test as
 * it says: a run that retries as it waits for the lock meets it again and again.
 */
function allMet(
  met: TypedEvent<string>,
  wanted: [test: (what: string) => boolean, times: number][],
): Promise<true> {
  const left = wanted.map(([test, times]) => ({ test, times }));
  return new Promise((resolve) => {
    const dispose = met.on((what) => {
      for (const want of left) if (want.test(what)) want.times--;
      if (left.some((want) => want.times > 0)) return;
      dispose();
      resolve(true);
    });
  });
}

describe('a line while another program holds the station database', () => {
  it('keeps talking to the devices on other slots, keeps its event loop free, and passes them once the lock goes', async () => {
    // Key generation takes long enough for the lock to be taken while a device works on it.
    simulator = await Simulator.start({
      devices: 3,
      link: 'pty',
      baudRate: 0,
      latencies: { keygenMs: 600 },
    });
    const [first, second, third] = simulator.devices;
    station = await stationOnDisk();
    const met = lockMeetings(station);
    const ports = simulator.devices.map((d) => d.hostPath);
    line = await testLine({
      profile: testProfile(),
      ca: station.ca,
      recorder: station.recorder,
      ports: { configured: ports, discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();
    const ended = events(line.onRunEnded, 3);

    // Slot 1 is generating its key when a supervisor's tool takes the database.
    const attesting = slotReaches(line.onSlotChanged, 1, 'running');
    const keyAsked = new Promise<void>((resolve) => {
      const dispose = line!.onSlotChanged.on((view) => {
        if (view.slot !== 1 || view.step !== 'attest') return;
        dispose();
        resolve();
      });
    });
    // Registered before the lock is taken: spawning sqlite3 may take longer than the key.
    const csrAnswered = new Promise<void>((resolve) => {
      const dispose = first!.onRequest.on(({ name }) => {
        if (name !== 'GEN_KEY_CSR') return;
        dispose();
        resolve();
      });
    });
    line.provision(1);
    await attesting;
    await keyAsked;
    const lock = await holdWriteLock(station.path);
    const probe = latenessProbe();
    // Slots 2 and 3 start under the lock: they identify their devices, then wait to open a run;
    // slot 1's device answers its key meanwhile, and its certificate waits to be recorded.
    line.provision(2);
    line.provision(3);
    // Held for seconds: the waiting runs look again every quarter second at most.
    const waited = await within(
      15_000,
      allMet(met, [
        [(what) => what === `begin ${second!.hostPath}`, 12],
        [(what) => what === `begin ${third!.hostPath}`, 12],
        [(what) => what.startsWith('certificate ') || what === `commit ${first!.hostPath}`, 1],
      ]),
    );
    await csrAnswered;
    const worstWhileLocked = probe.stop();
    await lock.release();
    expect(waited).toBe(true);

    const runs = await ended;
    expect(runs.map((r) => [r.slot, r.outcome.state]).sort()).toEqual([
      [1, 'pass'],
      [2, 'pass'],
      [3, 'pass'],
    ]);
    // A store call that meets the lock returns at once; SQLite's own wait blocked for 5 s.
    expect(worstWhileLocked).toBeLessThan(500);
    const stored = station.db
      .prepare(
        `SELECT r.state, c.status AS certificate, e.status AS enrollment FROM runs r
         JOIN certificates c ON c.serial_number = r.certificate_serial
         JOIN enrollments e ON e.run_id = r.id ORDER BY r.id`,
      )
      .all();
    expect(stored).toEqual(
      Array(3).fill({ state: 'pass', certificate: 'committed', enrollment: 'pending' }),
    );
  }, 30_000);
});

describe('a run waiting for the lock before anything was written to its device', () => {
  /** A started line on `station` with one simulated device per slot. */
  async function lineOf(devices: number, latencies = {}): Promise<Line> {
    simulator = await Simulator.start({ devices, link: 'pty', baudRate: 0, latencies });
    station = await stationOnDisk();
    const started = await testLine({
      profile: testProfile(),
      ca: station.ca,
      recorder: station.recorder,
      ports: {
        configured: simulator.devices.map((d) => d.hostPath),
        discover: false,
        baudRate: 0,
        pollMs: 60_000,
      },
    });
    await started.start();
    return started;
  }

  it("ends at the technician's Cancel, and at the station's stop, not after the lock's 20 s", async () => {
    line = await lineOf(2);
    const [first, second] = simulator!.devices;
    const met = lockMeetings(station!);
    const lock = await holdWriteLock(station!.path);
    const waiting = allMet(met, [
      [(what) => what === `begin ${first!.hostPath}`, 2],
      [(what) => what === `begin ${second!.hostPath}`, 2],
    ]);
    const ended = events(line.onRunEnded, 2);
    line.provision(1);
    line.provision(2);
    expect(await within(10_000, waiting)).toBe(true);

    const cancelled = nextEvent(line.onRunEnded, (run) => run.slot === 1);
    line.cancel(1);
    expect((await within(5_000, cancelled))?.outcome).toMatchObject({
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED' },
    });
    const stopped = line.stop();
    expect(
      await within(
        5_000,
        stopped.then(() => true),
      ),
    ).toBe(true);
    const runs = (await ended).map((run: RunEnded) => [run.slot, run.outcome.state]);
    expect(runs.sort()).toEqual([
      [1, 'cancelled'],
      [2, 'cancelled'],
    ]);
    expect((await ended).find((run) => run.slot === 2)?.outcome).toMatchObject({
      error: { code: 'RUN_INTERRUPTED' },
    });
    await lock.release();
  }, 30_000);

  it('ends at the unplug of its board: the slot shows the hang-up, and the refused start is recorded once the lock goes', async () => {
    line = await lineOf(2);
    const [pulled, next] = simulator!.devices;
    const met = lockMeetings(station!);
    let tries = 0;
    met.on((what) => {
      if (what === `begin ${pulled!.hostPath}`) tries++;
    });
    const lock = await holdWriteLock(station!.path);
    const ended = nextEvent(line.onRunEnded, (run) => run.slot === 1);
    line.provision(1);
    expect(await within(10_000, allMet(met, [[(w) => w === `begin ${pulled!.hostPath}`, 2]]))).toBe(
      true,
    );

    const gone = nextLost(5_000);
    await pulled!.faults.unplug();
    const run = await within(5_000, ended);
    expect(run?.outcome).toMatchObject({ state: 'fail', error: { code: 'WIRE_DISCONNECTED' } });
    expect(run?.outcome).not.toHaveProperty('runId');
    expect(await gone).toBe(pulled!.hostPath);
    // Not RUNNING on an empty port: the hang-up shown, and no run to start there.
    expect(line.slots()[0]).toMatchObject({ state: 'fail', error: { code: 'WIRE_DISCONNECTED' } });
    expect(() => line!.provision(1)).toThrow(expect.objectContaining({ code: 'LINE_PORT_ABSENT' }));
    const triesAtEnd = tries;
    expect(station!.store.runs()).toEqual([]);

    // The lock goes: the next write (the next board's run) records the refused start first.
    await lock.release();
    const passed = nextEvent(line.onRunEnded, (r) => r.slot === 2);
    line.provision(2);
    expect((await passed).outcome.state).toBe('pass');
    // Its wait ended with its run: the pulled board's start was not tried again after that.
    expect(tries).toBe(triesAtEnd);
    const runs = station!.store.runs();
    expect(runs.map((r) => [r.port, r.state, r.error?.code ?? null])).toEqual([
      [next!.hostPath, 'pass', null],
      [pulled!.hostPath, 'fail', 'WIRE_DISCONNECTED'],
    ]);
    expect(runs[1]).toMatchObject({ serialNumber: pulled!.serialNumber, startedBy: 'operator' });
    expect(station!.store.audit('run.failed')).toMatchObject([
      { subject: `run:${runs[1]!.id}`, detail: { code: 'WIRE_DISCONNECTED' } },
    ]);
    expect(line.status().today).toMatchObject({ passed: 1, failed: 1 });
  }, 30_000);

  it("ends the CA ledger's wait for the lock at the technician's Cancel: the certificate never leaves the CA", async () => {
    // Key generation takes long enough for the lock to be taken while the device works on it.
    line = await lineOf(1, { keygenMs: 600 });
    const met = lockMeetings(station!);
    const issued: Promise<unknown>[] = [];
    const issueFromCsr = station!.ca.issueFromCsr.bind(station!.ca);
    vi.spyOn(station!.ca, 'issueFromCsr').mockImplementation((...args) => {
      const issuing = issueFromCsr(...args);
      issued.push(
        issuing.then(
          () => 'issued',
          () => 'refused',
        ),
      );
      return issuing;
    });
    const attesting = nextEvent(line.onSlotChanged, (view) => view.step === 'attest');
    const ended = nextEvent(line.onRunEnded);
    line.provision(1);
    await attesting;
    const lock = await holdWriteLock(station!.path);
    expect(await within(10_000, allMet(met, [[(w) => w.startsWith('certificate '), 2]]))).toBe(
      true,
    );

    line.cancel(1);
    expect(await within(5_000, issued[0]!)).toBe('refused');
    await lock.release();
    expect((await ended).outcome).toMatchObject({
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED' },
    });
    expect(station!.ledger.list()).toEqual([]);
  }, 30_000);
});
