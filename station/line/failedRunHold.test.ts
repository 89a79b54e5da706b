/**
 * After a failed run the line keeps the port open only to hear it hang up: a device swapped in
 * before the next poll gets its own run, a failed device left plugged is not run again by
 * itself, "Provision again" starts on a fresh session, and stop() lets go of the port. Real
 * ptys: the simulator's unplug kills socat, so the station's tty hangs up as a pulled USB
 * adapter's does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { Line } from './line.js';
import {
  byIdLink,
  InMemoryRunRecorder,
  nextLost,
  slotReaches,
  testLine,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = undefined;
  simulator = undefined;
  dir = undefined;
});

/** A line on `configured` that never polls by itself (60 s): only holds and rescans count. */
async function startLine(configured: string[], mode: 'auto' | 'manual' = 'auto') {
  const recorder = new InMemoryRunRecorder();
  const started = await testLine({
    recorder,
    ports: { configured, discover: false, baudRate: 0, pollMs: 60_000 },
    mode,
    sessionOptions: { timeoutScale: 0.2, retries: 1 }, // room for a loaded CI machine
  });
  line = started;
  await started.start();
  return { line: started, recorder };
}

/** A by-id link to `target` in a fresh folder (see lineTestKit's byIdLink). */
async function byIdLinkTo(target: string) {
  dir = await mkdtemp(join(tmpdir(), 'line-failhold-'));
  const { port, point } = await byIdLink(dir, target);
  return { port, repoint: point };
}

/** Whether another opener of `path` is refused: the line has it open (exclusive lock). */
async function heldByTheLine(path: string): Promise<boolean> {
  const probe = createTransport(path);
  try {
    await probe.open();
  } catch (err) {
    if ((err as { code?: string }).code === 'WIRE_PORT_OPEN_FAILED') return true;
    throw err;
  }
  await probe.close();
  return false;
}

describe('a failed run on a local port', () => {
  it('auto mode: a device swapped in after a failure, before any poll, gets its own run', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [broken, next] = simulator.devices;
    const stalled = broken!.faults.stallDuringNext('GEN_KEY_CSR');
    const { port, repoint } = await byIdLinkTo(broken!.hostPath);
    const { line, recorder } = await startLine([port]);
    const failed = await slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
    await stalled;
    expect(failed).toMatchObject({ state: 'fail', error: { code: 'WIRE_TIMEOUT' } });

    // The technician pulls the failed device and plugs the next one in within one poll.
    const lost = nextLost(3000);
    await broken!.faults.unplug();
    const heard = await lost;
    await repoint(next!.hostPath);
    const passed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
    await line.rescan(); // the first poll after the swap finds the path there, as before
    expect(line.slots()[0]).toMatchObject({ state: 'running' });
    expect(heard).toBe(port);
    expect(await passed).toMatchObject({ state: 'pass', serialNumber: next!.serialNumber });
    expect(recorder.runs).toHaveLength(2);
  });

  it('manual mode: the next device shows as waiting for its run instead of the old FAIL', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [broken, next] = simulator.devices;
    broken!.onRequest.on((e) => {
      if (e.name === 'GEN_KEY_CSR') broken!.faults.stall('forever');
    });
    const { port, repoint } = await byIdLinkTo(broken!.hostPath);
    const { line, recorder } = await startLine([port], 'manual');
    const failed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
    line.provision(1);
    expect(await failed).toMatchObject({
      state: 'fail',
      serialNumber: broken!.serialNumber,
      error: { code: 'WIRE_TIMEOUT' },
    });

    const lost = nextLost(3000);
    await broken!.faults.unplug();
    const heard = await lost;
    await repoint(next!.hostPath);
    await line.rescan();
    expect(line.slots()[0]).toMatchObject({ state: 'waiting' });
    expect(heard).toBe(port);
    expect(line.slots()[0]!.error).toBeUndefined();
    expect(recorder.runs).toHaveLength(1);
  });

  it('a failed device left plugged is held, never run again by itself; Provision again opens afresh', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const stalled = device.faults.stallDuringNext('GEN_KEY_CSR');
    const opened = vi.spyOn(DeviceSession, 'open');
    const { line, recorder } = await startLine([device.hostPath]);
    expect((await slotReaches(line.onSlotChanged, 1, 'pass', 'fail')).state).toBe('fail');
    await stalled;

    // Polls find the same device on the same path: nothing new, so no run (a loop otherwise).
    await line.rescan();
    await line.rescan();
    expect(recorder.runs).toHaveLength(1);
    expect(line.slots()[0]).toMatchObject({ state: 'fail', error: { code: 'WIRE_TIMEOUT' } });
    expect(await heldByTheLine(device.hostPath)).toBe(true);

    // The operator fixes the device and asks again: the run starts on a session of its own,
    // not on the one the timed-out run left behind.
    device.faults.clearStall();
    const passed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
    line.provision(1);
    expect(await passed).toMatchObject({ state: 'pass', serialNumber: device.serialNumber });
    expect(opened).toHaveBeenCalledTimes(2);
    expect(recorder.runs).toHaveLength(2);

    await line.stop();
    expect(await heldByTheLine(device.hostPath)).toBe(false);
  });

  it('a port that could not be opened holds nothing and is not retried by itself', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    // Another station process has the port: the line's open is refused by the lock.
    const other = createTransport(device.hostPath);
    await other.open();
    try {
      const { line, recorder } = await startLine([device.hostPath]);
      const failed = await slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      expect(failed).toMatchObject({ error: { code: 'WIRE_PORT_OPEN_FAILED' } });
      await line.rescan();
      expect(recorder.runs).toHaveLength(1);
      await other.close();
      const passed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      line.provision(1);
      expect((await passed).state).toBe('pass');
    } finally {
      await other.close();
    }
  });
});
