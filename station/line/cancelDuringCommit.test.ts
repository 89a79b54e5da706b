/**
 * Once COMMIT went to the device a run cannot be cancelled (provisioningRun.ts): the operator's
 * cancel is refused with a code of its own instead of being silently ignored, and the run ends
 * as it would have. A simulated device on a real pty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { Line } from './line.js';
import { lineErrorText } from './runErrors.js';
import { InMemoryRunRecorder, nextRunEnd, testLine } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  line = simulator = undefined;
});

describe('cancel during commit', () => {
  it('is refused with LINE_RUN_COMMITTING, and the run goes on to PASS', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const recorder = new InMemoryRunRecorder();
    line = await testLine({
      recorder,
      ports: { configured: [device.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
    });
    await line.start();
    const started = line;
    // The operator presses Cancel as the device takes the COMMIT.
    const refusal = new Promise<unknown>((resolve) => {
      device.onRequest.on(({ name }) => {
        if (name !== 'COMMIT') return;
        try {
          started.cancel(1);
          resolve(undefined);
        } catch (err) {
          resolve(err);
        }
      });
    });
    const ended = nextRunEnd(line);
    line.provision(1);

    expect(await refusal).toMatchObject({
      code: 'LINE_RUN_COMMITTING',
      message: lineErrorText.LINE_RUN_COMMITTING,
      detail: `slot 1 ${device.hostPath}`,
    });
    expect((await ended)?.outcome.state).toBe('pass');
    expect(line.slots()[0]).toMatchObject({ state: 'pass', serialNumber: device.serialNumber });
    expect(recorder.runs).toHaveLength(1);
  });
});
