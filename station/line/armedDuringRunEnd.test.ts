/**
 * A device plugged while the slot's run is still finishing (its record waiting on the store,
 * which can take many seconds behind a lock) gets its own run in auto mode once that run ends,
 * instead of waiting behind the old device's result for someone to press Provision. Real ptys:
 * the simulator's unplug kills socat, so the run's open tty hangs up as a pulled USB adapter's
 * does, and a by-id link re-pointed to the next device is what the next poll finds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { Line } from './line.js';
import type { PassedRunRecord } from './lineTypes.js';
import type { EarlierProvisioning } from './runRecorder.js';
import {
  byIdLink,
  events,
  InMemoryRunRecorder,
  nextLost,
  testLine,
  within,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let dir: string | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = simulator = dir = undefined;
});

/** The store as a lock holds it: the first PASS's record waits until the test lets it go. */
class RecorderHoldingFirstCommit extends InMemoryRunRecorder {
  /** Resolves once the first PASS's record is waiting. */
  readonly reached: Promise<void>;
  private reach!: () => void;
  private letGo!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.letGo = resolve));
  private held = false;

  constructor() {
    super();
    this.reached = new Promise((resolve) => (this.reach = resolve));
  }

  release(): void {
    this.letGo();
  }

  override async commitPass(
    record: PassedRunRecord,
    options?: { supersedes?: EarlierProvisioning },
  ): Promise<void> {
    if (!this.held) {
      this.held = true;
      this.reach();
      await this.gate;
    }
    super.commitPass(record, options);
  }
}

describe('auto mode, a device plugged while the run before it finishes', () => {
  it('gets its own run once that run ends', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [first, next] = simulator.devices;
    dir = await mkdtemp(join(tmpdir(), 'line-armed-at-end-'));
    const { port, point } = await byIdLink(dir, first!.hostPath);
    const recorder = new RecorderHoldingFirstCommit();
    line = await testLine({
      recorder,
      ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'auto',
    });
    const ended = events(line.onRunEnded, 2);
    await line.start();
    await recorder.reached;

    // The first device has committed; its record waits on the store. The technician swaps it.
    const lost = nextLost(3000);
    await first!.faults.unplug();
    expect(await lost).toBe(port);
    await point(next!.hostPath);
    await line.rescan(); // the watcher reports the port gone, then there again
    expect(line.slots()[0]).toMatchObject({ state: 'running', serialNumber: first!.serialNumber });

    recorder.release();
    const runs = await within(10_000, ended);
    expect(runs?.map((run) => run.outcome)).toMatchObject([
      { state: 'pass', record: { device: { serialNumber: first!.serialNumber } } },
      { state: 'pass', record: { device: { serialNumber: next!.serialNumber } } },
    ]);
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: next!.serialNumber });

    // The device that passed is left alone: only another arrival starts the slot again.
    await line.rescan();
    expect(recorder.runs).toHaveLength(2);
  });
});
