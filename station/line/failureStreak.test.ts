import { describe, expect, it } from 'vitest';
import { FailureStreak, REPEATED_FAILURE_LIMIT } from './failureStreak.js';
import type { RunOutcome } from './provisioningRun.js';
import { runErrorText } from './runErrors.js';

const link = { bytesWritten: 0, bytesRead: 0 };
const timeout = { code: 'WIRE_TIMEOUT', message: 'The device did not answer.', detail: 'CSR' };

function failed(serialNumber: string | undefined, runId: number, error = timeout): RunOutcome {
  return {
    state: 'fail',
    runId,
    error,
    link,
    ...(serialNumber !== undefined && { device: { serialNumber, model: 'LS-DEMO-1' } }),
  };
}

const A = { serialNumber: 'SIM000001', model: 'LS-DEMO-1' };

describe('FailureStreak', () => {
  it('holds a device at its 3rd failure in a row, and says why with the last error', () => {
    const streak = new FailureStreak();
    expect(REPEATED_FAILURE_LIMIT).toBe(3);
    expect(streak.record(failed(A.serialNumber, 1))).toBeUndefined();
    expect(streak.record(failed(A.serialNumber, 2))).toBeUndefined();
    expect(streak.holds).toBe(false);
    const held = streak.record(failed(A.serialNumber, 3));
    expect(streak.holdsBack(A)).toBe(true);
    expect(streak.holdsBack({ ...A, serialNumber: 'SIM000002' })).toBe(false);
    expect(streak.holdsBack({ ...A, model: 'LS-DEMO-2' })).toBe(false);
    expect(held).toEqual({
      code: 'RUN_REPEATED_FAILURE',
      message: `${runErrorText.RUN_REPEATED_FAILURE} Last failure (WIRE_TIMEOUT): The device did not answer.`,
      detail: 'SIM000001 failed 3 runs in a row; run 3: WIRE_TIMEOUT: CSR',
    });
    // Still held, and still saying so, when it fails again (a manual mode run, say).
    expect(streak.record(failed(A.serialNumber, 4))?.detail).toContain('failed 4 runs');
  });

  it('tells the operator the same number it counts to', () => {
    expect(runErrorText.RUN_REPEATED_FAILURE).toContain(
      `failed ${REPEATED_FAILURE_LIMIT} times in a row`,
    );
  });

  it('lets a failure before IDENTIFY neither count nor end the streak', () => {
    const streak = new FailureStreak();
    streak.record(failed(A.serialNumber, 1));
    streak.record(failed(undefined, 2));
    streak.record(failed(undefined, 3));
    streak.record(failed(A.serialNumber, 4));
    expect(streak.holds).toBe(false);
    expect(streak.record(failed(undefined, 5))).toBeUndefined();
    expect(streak.record(failed(A.serialNumber, 6))?.code).toBe('RUN_REPEATED_FAILURE');
  });

  it('starts again at another device, a PASS, a cancel and a reset', () => {
    const enders: ((streak: FailureStreak) => void)[] = [
      (streak) => streak.record(failed('SIM000002', 9)),
      (streak) => streak.record({ state: 'cancelled', runId: 9, error: timeout, link, device: A }),
      (streak) => streak.record({ state: 'pass', runId: 9, link } as unknown as RunOutcome),
      (streak) => streak.reset(),
    ];
    for (const end of enders) {
      const streak = new FailureStreak();
      streak.record(failed(A.serialNumber, 1));
      streak.record(failed(A.serialNumber, 2));
      end(streak);
      expect(streak.record(failed(A.serialNumber, 10))).toBeUndefined();
      expect(streak.holds).toBe(false);
    }
  });

  it("neither counts nor ends on the station's own faults: its disk, its CA, a missing key", () => {
    const stationFaults = [
      'STORE_WRITE_FAILED',
      'STORE_READ_ONLY',
      'STORE_BUSY',
      'CA_LOCKED',
      'CA_EXPIRED',
      'CA_NOT_YET_VALID',
      'RUN_GROUP_KEY_UNAVAILABLE',
      'RUN_EK_TRUST_UNAVAILABLE',
      'CA_SERIAL_REUSED',
      'CUSTODY_UNAVAILABLE',
    ];
    for (const code of stationFaults) {
      let asked = 0;
      const streak = new FailureStreak(() => {
        asked += 1;
        return 0;
      });
      const fault = (runId: number) =>
        failed(A.serialNumber, runId, { code, message: 'The station is at fault.', detail: '' });
      // The board reseated while the station cannot provision anything: never held for it.
      for (let runId = 1; runId <= REPEATED_FAILURE_LIMIT + 1; runId++) {
        expect(streak.record(fault(runId)), code).toBeUndefined();
      }
      expect(streak.holds, code).toBe(false);
      expect(asked, code).toBe(0);
      // Nor do they end a streak of the board's own failures.
      streak.record(failed(A.serialNumber, 10));
      streak.record(fault(11));
      streak.record(failed(A.serialNumber, 12));
      expect(streak.record(failed(A.serialNumber, 13))?.code, code).toBe('RUN_REPEATED_FAILURE');
    }
  });

  it("still counts the store's refusals of the board's records, and a station bug it sets off", () => {
    // A board whose data makes the station throw, then resets and comes back, would otherwise
    // run round and round in auto mode, a certificate issued each time.
    for (const code of ['STORE_DUPLICATE_ENROLLMENT', 'STORE_RECORD_INVALID', 'RUN_INTERNAL']) {
      const streak = new FailureStreak();
      for (let runId = 1; runId < REPEATED_FAILURE_LIMIT; runId++) {
        streak.record(failed(A.serialNumber, runId, { code, message: 'Refused.', detail: '' }));
      }
      expect(streak.record(failed(A.serialNumber, 9))?.code, code).toBe('RUN_REPEATED_FAILURE');
    }
  });

  it('counts, at its first failure, the failures the store recorded before a restart', () => {
    const asked: [string, number][] = [];
    const streak = new FailureStreak((device, beforeRunId) => {
      asked.push([device.serialNumber, beforeRunId]);
      return REPEATED_FAILURE_LIMIT - 1;
    });
    // A failure before IDENTIFY names no device: nothing to ask yet.
    expect(streak.record(failed(undefined, 40))).toBeUndefined();
    expect(streak.record(failed('SIM000001', 41))?.code).toBe('RUN_REPEATED_FAILURE');
    expect(streak.holdsBack(A)).toBe(true);
    // Asked once: after the operator's start the count is this process's own.
    streak.reset();
    streak.record(failed('SIM000001', 42));
    expect(streak.holds).toBe(false);
    expect(asked).toEqual([['SIM000001', 41]]);
  });

  it('does not ask the store once something ended the streak (a PASS first)', () => {
    let asked = 0;
    const streak = new FailureStreak(() => (asked += 1));
    streak.record({ state: 'pass', runId: 1, link } as unknown as RunOutcome);
    streak.record(failed('SIM000001', 2));
    expect(asked).toBe(0);
    expect(streak.holds).toBe(false);
  });
});
