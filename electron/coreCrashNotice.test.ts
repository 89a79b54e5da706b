import { describe, expect, it } from 'vitest';
import { coreCrashNotice, CRASHES_BEFORE_NOTICE } from './coreCrashNotice.js';

describe('coreCrashNotice', () => {
  it('tells the technician once, when crashes in a row reach the threshold', () => {
    const notices = [1, 2, 3, 4, 5].map((crashesInARow) =>
      coreCrashNotice({ code: 9, crashed: true, restartInMs: 8_000, crashesInARow }),
    );
    expect(notices.map((n) => n !== undefined)).toEqual([false, false, true, false, false]);
    expect(notices[CRASHES_BEFORE_NOTICE - 1]).toMatchObject({
      message: expect.stringContaining('3 times in a row') as string,
      detail: expect.stringContaining('again in 8 s') as string,
    });
  });

  it('says nothing for a stop main asked for', () => {
    expect(coreCrashNotice({ code: 0, crashed: false, crashesInARow: 0 })).toBeUndefined();
  });
});
