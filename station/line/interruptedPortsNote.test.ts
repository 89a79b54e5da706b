import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedPortsNote } from './interruptedPortsNote.js';
import type { Line } from './line.js';
import {
  InMemoryRunRecorder,
  nextEvent,
  oneSimulatedDevicePerTest,
  testLine,
  within,
} from './testing/lineTestKit.js';

const startDevice = oneSimulatedDevicePerTest();
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  line = undefined;
});

describe('the note on ports whose runs the last stop cut off', () => {
  it('names each port until a run starts there', () => {
    const note = new InterruptedPortsNote(
      ['/dev/ttyUSB1', '/dev/ttyUSB4', '/dev/ttyUSB1'].map((port) => ({ port })),
    );
    expect(note.note()).toBe(
      'The station stopped during a run on /dev/ttyUSB1; /dev/ttyUSB4 (RUN_INTERRUPTED): the device that was there has no recorded identity. Provision it again before it ships.',
    );
    expect(note.ranOn('/dev/ttyUSB9')).toBe(false);
    expect(note.ranOn('/dev/ttyUSB1')).toBe(true);
    expect(note.note()).toContain('a run on /dev/ttyUSB4 (RUN_INTERRUPTED)');
    note.ranOn('/dev/ttyUSB4');
    expect(note.note()).toBeUndefined();
  });

  it('names the boards identify had read, each once', () => {
    const sn1 = { serialNumber: 'SN-1', model: 'sensor-a' };
    const note = new InterruptedPortsNote([
      { port: '/dev/ttyUSB1', device: sn1 },
      { port: '/dev/ttyUSB1', device: sn1 },
      { port: '/dev/ttyUSB2', device: { serialNumber: 'SN-2', model: 'sensor-a' } },
      { port: '/dev/ttyUSB3' },
    ]);
    expect(note.note()).toBe(
      'The station stopped during a run on /dev/ttyUSB1: SN-1 (sensor-a); /dev/ttyUSB2: SN-2 (sensor-a); /dev/ttyUSB3 (RUN_INTERRUPTED): those devices have no recorded identity. Provision them again before they ship.',
    );
  });

  it("is among the line's notes, and goes with a status event when the port's run starts", async () => {
    const device = await startDevice();
    line = await testLine({
      recorder: new InMemoryRunRecorder(),
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      interruptedRuns: [{ port: device.hostPath }],
    });
    await line.start();
    expect(line.status().notes.join('\n')).toContain(`a run on ${device.hostPath}`);
    const cleared = nextEvent(line.onStatusChanged, (status) =>
      status.notes.every((n) => !n.includes('RUN_INTERRUPTED')),
    );
    line.provision(1);
    expect(await within(10_000, cleared)).toBeDefined();
  });
});
