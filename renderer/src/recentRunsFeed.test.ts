import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  CommandArgs,
  CommandResult,
  RunViewPayload,
  SlotViewPayload,
} from '../../station/api/contract.js';
import { StationApiError } from '../../station/api/stationClient.js';
import {
  MAX_COVERED_RUNS,
  MAX_RETRY_MS,
  RecentRunsFeed,
  type RecentRunsUpdate,
} from './recentRunsFeed.js';

const run = (runId: number, state: RunViewPayload['state'] = 'pass'): RunViewPayload => ({
  runId,
  port: `/dev/ttyUSB${runId % 4}`,
  state,
  startedAt: '2026-01-05T06:00:00.000Z',
  finishedAt: '2026-01-05T06:00:09.000Z',
});

const slot = (n: number, state: SlotViewPayload['state'], runId?: number): SlotViewPayload => ({
  slot: n,
  port: `/dev/ttyUSB${n}`,
  state,
  progress: 0,
  updatedAt: 0,
  ...(runId !== undefined && { runId }),
});

/** A station whose answers the test releases one by one; `asks` counts what it was asked. */
function station() {
  const asks: CommandArgs<'recentRuns'>[] = [];
  const answers: {
    resolve: (r: CommandResult<'recentRuns'>) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const load = (args: CommandArgs<'recentRuns'>) => {
    asks.push(args);
    return new Promise<CommandResult<'recentRuns'>>((resolve, reject) =>
      answers.push({ resolve, reject }),
    );
  };
  const answer = async (runs: RunViewPayload[]) => {
    answers.shift()!.resolve({ runs });
    await vi.advanceTimersByTimeAsync(0);
  };
  const refuse = async (error: unknown) => {
    answers.shift()!.reject(error);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { asks, load, answer, refuse, open: () => answers.length };
}

function feedOn(failedOnly = false) {
  const s = station();
  const shown: RecentRunsUpdate[] = [];
  const feed = new RecentRunsFeed({ load: s.load, show: (u) => shown.push(u), failedOnly });
  return { ...s, shown, feed };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 5, 6) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RecentRunsFeed', () => {
  it('asks at once as it starts, not again for the runs the slots showed then', async () => {
    const { feed, asks, answer, shown } = feedOn();
    feed.start([slot(1, 'pass', 7), slot(2, 'running', 8)]);
    expect(asks).toEqual([{ failedOnly: false }]);
    feed.slotChanged(slot(1, 'pass', 7));
    await answer([run(7)]);
    expect(shown).toEqual([{ runs: [run(7)] }]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asks).toHaveLength(1);
  });

  it('asks again when a slot shows a run ended that is not listed, at most once a second', async () => {
    const { feed, asks, answer } = feedOn();
    feed.start([]);
    await answer([]);
    // A run still running, a slot without one, and a run the answer listed ask nothing.
    feed.slotChanged(slot(1, 'running', 1));
    feed.slotChanged(slot(2, 'waiting'));
    expect(asks).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(400);
    feed.slotChanged(slot(1, 'pass', 1));
    // Within a second of the last ask: it waits for the rest of that second.
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    feed.slotChanged(slot(2, 'fail', 2));
    feed.slotChanged(slot(2, 'fail', 2));
    await vi.advanceTimersByTimeAsync(299);
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    // One trailing ask for both runs: neither is dropped.
    expect(asks).toHaveLength(2);
    await answer([run(2, 'fail'), run(1)]);
    feed.slotChanged(slot(1, 'pass', 1));
    feed.slotChanged(slot(2, 'fail', 2));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asks).toHaveLength(2);

    // Long after the last ask, a run that ends is asked for at once.
    feed.slotChanged(slot(3, 'cancelled', 3));
    expect(asks).toHaveLength(3);
  });

  it('counts its pauses on a clock that does not step: a wall clock set back holds no ask', async () => {
    const { feed, asks, answer } = feedOn();
    feed.start([]);
    await answer([]);
    // Time set back an hour (a time server's correction): the feed's second has still passed.
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(1_000);
    feed.slotChanged(slot(1, 'pass', 1));
    expect(asks).toHaveLength(2);
  });

  it('asks one at a time: a run that ends during an ask is asked for after it', async () => {
    const { feed, asks, answer, open } = feedOn();
    feed.start([]);
    await vi.advanceTimersByTimeAsync(3_000);
    feed.slotChanged(slot(1, 'fail', 1));
    expect(asks).toHaveLength(1);
    expect(open()).toBe(1);
    await answer([]);
    expect(asks).toHaveLength(2);
    await answer([run(1, 'fail')]);
    expect(asks).toHaveLength(2);
  });

  it('asks nothing for a pass while it lists only the runs that did not pass', async () => {
    const { feed, asks, answer } = feedOn(true);
    feed.start([]);
    expect(asks).toEqual([{ failedOnly: true }]);
    await answer([]);
    await vi.advanceTimersByTimeAsync(2_000);
    feed.slotChanged(slot(1, 'pass', 1));
    expect(asks).toHaveLength(1);
    // A cancel (by the operator, or a stop's RUN_INTERRUPTED) leaves a device to run again.
    feed.slotChanged(slot(2, 'cancelled', 2));
    expect(asks).toHaveLength(2);
    await answer([run(2, 'cancelled')]);
    await vi.advanceTimersByTimeAsync(2_000);
    feed.slotChanged(slot(3, 'fail', 3));
    expect(asks).toHaveLength(3);
  });

  it('shows why an ask failed and makes it again by itself, waiting longer each time', async () => {
    const { feed, asks, refuse, answer, shown } = feedOn();
    feed.start([]);
    await refuse(new StationApiError({ code: 'API_TIMEOUT', message: 'No answer in time.' }));
    expect(shown).toEqual([{ problem: { code: 'API_TIMEOUT', message: 'No answer in time.' } }]);
    // No run ends: an idle line, the last failure of a shift. The list asks again all the same.
    await vi.advanceTimersByTimeAsync(999);
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(asks).toHaveLength(2);
    await refuse(new Error('socket gone'));
    expect(shown.at(-1)).toEqual({ problem: { message: 'socket gone' } });
    // Then after 2 s, 4 s, 8 s, and at most every MAX_RETRY_MS.
    await vi.advanceTimersByTimeAsync(1_999);
    expect(asks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(asks).toHaveLength(3);
    for (const pause of [4_000, 8_000, MAX_RETRY_MS, MAX_RETRY_MS]) {
      await refuse(new Error('still gone'));
      await vi.advanceTimersByTimeAsync(pause - 1);
      const before = asks.length;
      await vi.advanceTimersByTimeAsync(1);
      expect(asks).toHaveLength(before + 1);
    }
    await answer([run(1, 'fail')]);
    expect(shown.at(-1)).toEqual({ runs: [run(1, 'fail')] });
    // Answered: nothing more until a run ends.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asks).toHaveLength(7);
  });

  it('pauses from the failure, not from the ask, when a read fails slowly', async () => {
    const { feed, asks, refuse } = feedOn();
    feed.start([]);
    // The client gives up after 15 s: the pause of 1 s starts then.
    await vi.advanceTimersByTimeAsync(15_000);
    await refuse(new StationApiError({ code: 'API_TIMEOUT', message: 'No answer in time.' }));
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(asks).toHaveLength(2);
  });

  it('asks again for the runs of an ask that failed', async () => {
    const { feed, asks, refuse, answer, shown } = feedOn();
    feed.start([]);
    await answer([]);
    await vi.advanceTimersByTimeAsync(1_000);
    feed.slotChanged(slot(1, 'fail', 1));
    expect(asks).toHaveLength(2);
    await refuse(new Error('STORE_BUSY'));
    // The slot shows the same run again: it is still waited for, not taken as listed.
    feed.slotChanged(slot(1, 'fail', 1));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(asks).toHaveLength(3);
    await answer([run(1, 'fail')]);
    expect(shown.at(-1)).toEqual({ runs: [run(1, 'fail')] });
    feed.slotChanged(slot(1, 'fail', 1));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asks).toHaveLength(3);
  });

  it('once disposed, shows no answer that comes late, nor a refusal, and asks nothing more', async () => {
    const answered = feedOn();
    answered.feed.start([]);
    answered.feed.dispose();
    await answered.answer([run(1)]);
    const refused = feedOn();
    refused.feed.start([]);
    refused.feed.dispose();
    await refused.refuse(new Error('socket gone'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(answered.shown).toEqual([]);
    expect(refused.shown).toEqual([]);
    expect(answered.asks).toHaveLength(1);
    expect(refused.asks).toHaveLength(1);

    // A slot event after the dispose asks nothing either.
    const { feed, asks, answer } = feedOn();
    feed.start([]);
    await answer([]);
    await vi.advanceTimersByTimeAsync(200);
    feed.slotChanged(slot(2, 'pass', 2));
    feed.dispose();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asks).toHaveLength(1);
  });

  it('remembers a bounded number of runs over a long shift, the newest kept', async () => {
    const { feed, answer, asks } = feedOn();
    feed.start([]);
    await answer([]);
    const ended = MAX_COVERED_RUNS * 3;
    for (let runId = 1; runId <= ended; runId++) {
      feed.slotChanged(slot(1 + (runId % 64), 'fail', runId));
      await vi.advanceTimersByTimeAsync(1_000);
      await answer([run(runId, 'fail')]);
    }
    expect(feed.coveredRuns).toBeLessThanOrEqual(MAX_COVERED_RUNS);
    // The newest are still known: a slot showing one again asks nothing.
    const asked = asks.length;
    feed.slotChanged(slot(2, 'fail', ended));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toHaveLength(asked);
  });

  it('lists only failures: the passes it skips are bounded too', async () => {
    const { feed, answer } = feedOn(true);
    feed.start([]);
    await answer([]);
    for (let runId = 1; runId <= MAX_COVERED_RUNS * 2; runId++) {
      feed.slotChanged(slot(1, 'pass', runId));
    }
    expect(feed.coveredRuns).toBeLessThanOrEqual(MAX_COVERED_RUNS);
  });
});
