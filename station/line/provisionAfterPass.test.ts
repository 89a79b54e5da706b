/**
 * After a PASS the slot keeps its port's session open (slot.ts). On a port that never goes away
 * between boards (a serial device server; a fixture whose adapter stays plugged) the next board
 * is run only when the operator presses "Provision next", on that kept session: the run's INFO
 * asks whichever board is behind it. Simulated devices behind a real TCP socket, as a serial
 * device server serves them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { Line } from './line.js';
import { InMemoryRunRecorder, nextRunEnd, testLine, testProfile } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  line = simulator = undefined;
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
});
