import { describe, expect, it } from 'vitest';
import type { SlotView } from './lineTypes.js';
import type { RunOutcome } from './provisioningRun.js';
import { Slot } from './slot.js';

const link = { bytesWritten: 0, bytesRead: 0 };

describe('Slot', () => {
  it("shows a run's first progress, reported before the runner returns, and none after its end", async () => {
    const views: SlotView[] = [];
    const slot = new Slot(1, '/dev/ttyUSB0', (view) => views.push(view));
    let report: ((step: 'identify' | 'validate') => void) | undefined;
    const outcome = await slot.run(async (_signal, onProgress) => {
      report = (step) => onProgress({ runId: 7, step, progress: 0.1 });
      report('identify');
      await Promise.resolve();
      return {
        state: 'cancelled',
        runId: 7,
        error: { code: 'RUN_CANCELLED', message: 'x' },
        link,
      } as RunOutcome;
    });
    report!('validate');

    expect(outcome.state).toBe('cancelled');
    expect(views.map((v) => [v.state, v.step, v.runId])).toEqual([
      ['running', 'identify', undefined],
      ['running', 'identify', 7],
      ['cancelled', 'identify', 7],
    ]);
  });
});
