import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import { createPipePair } from './pipePair.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { serveStationApi } from './serveStationApi.js';
import { StationClient } from './stationClient.js';
import { watchStationHeartbeat } from './stationHeartbeat.js';

/**
 * A station whose answers to pings can be held back, as a hung event loop holds them: the
 * held pings are answered, in order, once it thaws.
 */
function stationThatCanHang() {
  const line = new RecordingLine();
  const [stationEnd, clientEnd] = createPipePair();
  const held: Array<() => void> = [];
  let hung = false;
  const pings: string[] = [];
  serveStationApi(stationEnd, {
    handlers: {
      ...commandHandlers(line, { local: true }),
      ping: () => {
        pings.push(hung ? 'held' : 'answered');
        if (!hung) return null;
        return new Promise<null>((resolve) => held.push(() => resolve(null)));
      },
    },
    events: lineEvents(line),
  });
  const client = new StationClient(clientEnd, { timeoutMs: 15_000 });
  return {
    client,
    clientEnd,
    pings,
    hang: () => (hung = true),
    thaw: () => {
      hung = false;
      for (const answer of held.splice(0)) answer();
    },
  };
}

describe('watchStationHeartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays quiet while the station answers, however long', async () => {
    const station = stationThatCanHang();
    const changes: boolean[] = [];
    const stop = watchStationHeartbeat(station.client, (ok) => changes.push(ok));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(changes).toEqual([]);
    expect(station.pings).toHaveLength(30);
    stop();
  });

  it('says the station is not answering once a ping is late, and that it is back on the next answer', async () => {
    const station = stationThatCanHang();
    const changes: boolean[] = [];
    const stop = watchStationHeartbeat(station.client, (ok) => changes.push(ok));
    await vi.advanceTimersByTimeAsync(4_000);
    station.hang();
    // The ping sent at 6 s is not answered; at 10 s it is 4 s late, at 12 s 6 s late.
    await vi.advanceTimersByTimeAsync(6_000);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toEqual([false]);
    // A long hang: one ping out at a time, a new one only after the client gave the last up.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(changes).toEqual([false]);
    expect(station.pings.filter((p) => p === 'held').length).toBeLessThanOrEqual(5);
    station.thaw();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toEqual([false, true]);
    stop();
  });

  it('stops with its disposer and when the client closes', async () => {
    const station = stationThatCanHang();
    const stop = watchStationHeartbeat(station.client, () => {});
    await vi.advanceTimersByTimeAsync(4_000);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(station.pings).toHaveLength(2);

    const other = stationThatCanHang();
    const changes: boolean[] = [];
    watchStationHeartbeat(other.client, (ok) => changes.push(ok));
    other.hang();
    other.clientEnd.close();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(changes).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
