/**
 * A run the station's own stop cancels is recorded as RUN_INTERRUPTED (the device must be
 * provisioned again; the run says nothing of the device), not as an operator's RUN_CANCELLED.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

describe('the line stopped while a run is in progress', () => {
  it('records the run as RUN_INTERRUPTED, cancelled before COMMIT', async () => {
    const device = await startDevice();
    const recorder = new InMemoryRunRecorder();
    line = await testLine({
      recorder,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();
    const attesting = nextEvent(line.onSlotChanged, (view) => view.step === 'attest');
    line.provision(1);
    expect(await within(10_000, attesting)).toBeDefined();
    await line.stop();
    expect(recorder.failures.at(-1)).toMatchObject({
      state: 'cancelled',
      error: {
        code: 'RUN_INTERRUPTED',
        detail: expect.stringContaining('the station is stopping'),
      },
    });
    expect(device.state.identityState).toBe(0);
  });
});
