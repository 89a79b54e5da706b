/**
 * After a PASS the slot keeps its port's session open (slot.ts), but the operator's "Provision
 * next" on a port that never went must reach the next board: on a local port (an adapter left
 * plugged while boards are swapped) through a fresh open, not the session of the board it
 * passed; on a serial device server through the connection it keeps. Simulated devices behind a
 * real TCP socket, as a serial device server serves them, and on real ptys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { Line } from './line.js';
import {
  byIdLink,
  InMemoryRunRecorder,
  nextRunEnd,
  testLine,
  testProfile,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  line = simulator = dir = undefined;
});

describe("the operator's Provision on a slot that passed", () => {
  it("keeps a serial device server's connection, and the next board passes on it", async () => {
    simulator = await Simulator.start({ devices: 1, link: 'tcp', baudRate: 0 });
    const device = simulator.devices[0]!;
    expect(device.hostPath).toMatch(/^tcp:\/\//);
    const opened = vi.spyOn(DeviceSession, 'open');
    const recorder = new InMemoryRunRecorder();
    line = await testLine({
      recorder,
      // The board on the fixture passed once already: the next one may run again.
      profile: testProfile({ duplicates: 'reprovision' }),
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();

    const first = nextRunEnd(line);
    line.provision(1);
    expect((await first)?.outcome.state).toBe('pass');
    expect(opened).toHaveBeenCalledTimes(1);
    const passedOn = await (opened.mock.results[0]!.value as Promise<DeviceSession>);
    expect(passedOn.isClosed).toBe(false); // kept, as after every PASS

    // The server serves one client: closing and connecting again at once would race its
    // noticing the close. The run's INFO asks whichever board is behind the connection.
    const next = nextRunEnd(line);
    line.provision(1);
    expect((await next)?.outcome.state).toBe('pass');
    expect(opened).toHaveBeenCalledTimes(1);
    expect(passedOn.isClosed).toBe(false);
    expect(recorder.runs.map((run) => run.state)).toEqual(['pass', 'pass']);
  });

  it('runs the board swapped in behind a USB adapter left plugged, not the one that passed', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [passed, swapped] = simulator.devices;
    dir = await mkdtemp(join(tmpdir(), 'line-next-'));
    // The fixture's stable by-id path: the same port for every board the fixture takes.
    const { port, point } = await byIdLink(dir, passed!.hostPath);
    line = await testLine({
      ports: { configured: [port], discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();
    const first = nextRunEnd(line);
    line.provision(1);
    expect((await first)?.outcome.state).toBe('pass');

    // The technician swaps the board; the port never went, so the slot still shows the PASS.
    await point(swapped!.hostPath);
    const next = nextRunEnd(line);
    line.provision(1);
    expect(await next).toMatchObject({ outcome: { state: 'pass' } });
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: swapped!.serialNumber });
  });
});
