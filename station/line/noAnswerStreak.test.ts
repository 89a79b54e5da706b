import { describe, expect, it } from 'vitest';
import { NO_ANSWER_LIMIT, NoAnswerStreak } from './noAnswerStreak.js';
import type { RunOutcome } from './provisioningRun.js';
import { runErrorText } from './runErrors.js';

const link = { bytesWritten: 0, bytesRead: 0 };
const dropped = {
  code: 'WIRE_DISCONNECTED',
  message: 'The device went away.',
  detail: 'tty hung up in INFO',
};

/** A failed run; `serialNumber` when the device answered INFO first. */
function failed(runId: number, serialNumber?: string): RunOutcome {
  return {
    state: 'fail',
    runId,
    error: dropped,
    link,
    ...(serialNumber !== undefined && { device: { serialNumber, model: 'LS-DEMO-1' } }),
  };
}

describe('NoAnswerStreak', () => {
  it('holds at the 3rd failure in a row before INFO answered, and says why with the last error', () => {
    const streak = new NoAnswerStreak();
    expect(NO_ANSWER_LIMIT).toBe(3);
    expect(streak.record(failed(1))).toBeUndefined();
    expect(streak.record(failed(2))).toBeUndefined();
    expect(streak.holds).toBe(false);
    expect(streak.record(failed(3))).toEqual({
      code: 'RUN_NO_ANSWER_REPEATED',
      message: `${runErrorText.RUN_NO_ANSWER_REPEATED} Last failure (WIRE_DISCONNECTED): The device went away.`,
      detail: 'no answer to INFO 3 times in a row; run 3: WIRE_DISCONNECTED: tty hung up in INFO',
    });
    expect(streak.holds).toBe(true);
  });

  it('tells the operator the same number it counts to, and what to do', () => {
    expect(runErrorText.RUN_NO_ANSWER_REPEATED).toContain(`${NO_ANSWER_LIMIT} times in a row`);
    expect(runErrorText.RUN_NO_ANSWER_REPEATED).toContain('press Provision');
  });

  it('counts a check that got no answer as one more, naming it in the detail', () => {
    const streak = new NoAnswerStreak();
    streak.record(failed(1));
    streak.record(failed(2));
    expect(streak.recordUnansweredCheck(dropped)?.detail).toBe(
      'no answer to INFO 3 times in a row; the last check: WIRE_DISCONNECTED: tty hung up in INFO',
    );
  });

  it('does not count a run the store refused, which never reached the device', () => {
    const streak = new NoAnswerStreak();
    streak.record(failed(1));
    streak.record(failed(2));
    const refused = { code: 'STORE_WRITE_FAILED', message: 'The disk is full.' };
    expect(streak.record({ state: 'fail', error: refused, link })).toBeUndefined();
    expect(streak.holds).toBe(false);
    expect(streak.record(failed(4))?.code).toBe('RUN_NO_ANSWER_REPEATED');
  });

  it('starts again at a device that answered, a PASS, a cancel and a reset', () => {
    const enders: ((streak: NoAnswerStreak) => void)[] = [
      (streak) => streak.record(failed(9, 'SIM000001')),
      (streak) => streak.record({ state: 'cancelled', runId: 9, error: dropped, link }),
      (streak) => streak.record({ state: 'pass', runId: 9, link } as unknown as RunOutcome),
      (streak) => streak.reset(),
    ];
    for (const end of enders) {
      const streak = new NoAnswerStreak();
      streak.record(failed(1));
      streak.record(failed(2));
      end(streak);
      expect(streak.record(failed(10))).toBeUndefined();
      expect(streak.holds).toBe(false);
    }
  });
});
