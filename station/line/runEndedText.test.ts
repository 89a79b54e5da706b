import { describe, expect, it } from 'vitest';
import type { RunEnded } from './line.js';
import { runEndedText } from './runEndedText.js';

const link = { bytesWritten: 10, bytesRead: 20 };

describe('runEndedText', () => {
  it('names the slot, port, outcome and, where the store keeps runs, the run id', () => {
    const failed: RunEnded['outcome'] = {
      state: 'fail',
      runId: 41,
      error: { code: 'DEVICE_KEY_MISMATCH', message: 'The device answered with a different key.' },
      link,
    };
    expect(runEndedText({ slot: 2, port: '/dev/ttyUSB1', outcome: failed }, { runId: true })).toBe(
      'slot 2 /dev/ttyUSB1: FAIL DEVICE_KEY_MISMATCH: The device answered with a different key. (run 41)',
    );
    expect(runEndedText({ slot: 2, port: '/dev/ttyUSB1', outcome: failed }, { runId: false })).toBe(
      'slot 2 /dev/ttyUSB1: FAIL DEVICE_KEY_MISMATCH: The device answered with a different key.',
    );
  });

  it('says a run the store could not open without a run id, and a cancelled run as such', () => {
    const outcome: RunEnded['outcome'] = {
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
      link,
    };
    expect(runEndedText({ slot: 1, port: 'tcp://10.0.0.5:4001', outcome }, { runId: true })).toBe(
      'slot 1 tcp://10.0.0.5:4001: CANCELLED RUN_CANCELLED: The run was cancelled.',
    );
  });
});
