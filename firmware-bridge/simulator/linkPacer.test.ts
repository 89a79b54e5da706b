import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LinkPacer, uartMs } from './linkPacer.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('uartMs', () => {
  it('counts 10 bits per byte (8N1)', () => {
    expect(uartMs(960, 9600)).toBe(1000);
    expect(uartMs(11_520, 115_200)).toBe(1000);
    expect(uartMs(1000, 0)).toBe(0);
  });
});

describe('LinkPacer', () => {
  it('takes about N x 10 / baud for N bytes on the wall clock, in order', async () => {
    const chunks = 12;
    const size = 40; // 480 bytes: 500 ms at 9600 baud
    const received: number[] = [];
    const started = performance.now();
    const done = new Promise<number>((resolve) => {
      const pacer = new LinkPacer(9600, (bytes) => {
        received.push(bytes[0]!);
        if (received.length === chunks) resolve(performance.now() - started);
      });
      for (let i = 0; i < chunks; i++) pacer.push(new Uint8Array(size).fill(i));
    });
    const elapsed = await done;
    const expected = uartMs(chunks * size, 9600);
    expect(elapsed).toBeGreaterThanOrEqual(0.95 * expected);
    expect(elapsed).toBeLessThanOrEqual(1.5 * expected);
    expect(received).toEqual([...Array(chunks).keys()]);
  });

  it('keeps line time: bytes ready earlier leave earlier, and delivery says when they arrived', () => {
    vi.useFakeTimers({ now: 100 });
    const log: [number, number, number][] = [];
    const pacer = new LinkPacer(
      10_000,
      (b, arrivedAt) => log.push([Date.now(), b.length, arrivedAt]),
      () => Date.now(),
    );
    // An answer whose work ended at 96 ms (the host's timer ran late): on the line 96..106.
    pacer.push(new Uint8Array(10), 96);
    vi.advanceTimersByTime(6);
    expect(log).toEqual([[106, 10, 106]]);
    // Readiness never jumps the queue: the next bytes follow the line's last byte.
    pacer.push(new Uint8Array(10), 50);
    vi.advanceTimersByTime(10);
    expect(log.at(-1)).toEqual([116, 10, 116]);
    // Bytes pushed now arrive after their own line time, and say so.
    pacer.push(new Uint8Array(4));
    vi.advanceTimersByTime(20);
    expect(log.at(-1)).toEqual([120, 4, 120]);
  });

  it('releases each chunk when its last byte would have crossed the line', () => {
    vi.useFakeTimers({ now: 0 });
    const log: [number, number][] = [];
    const pacer = new LinkPacer(
      10_000,
      (b) => log.push([Date.now(), b.length]),
      () => Date.now(),
    );
    pacer.push(new Uint8Array(10)); // 10 ms of line time
    pacer.push(new Uint8Array(20)); // queued behind it: done at 30 ms
    vi.advanceTimersByTime(9);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual([[10, 10]]);
    vi.advanceTimersByTime(100);
    expect(log).toEqual([
      [10, 10],
      [30, 20],
    ]);
    // An idle line does not bank time: a chunk written at 110 ms is done at 115 ms.
    pacer.push(new Uint8Array(5));
    vi.advanceTimersByTime(5);
    expect(log.at(-1)).toEqual([115, 5]);
  });

  it('does not let timer lateness accumulate: each timer aims at an absolute target', () => {
    vi.useFakeTimers({ now: 0 });
    const delays: number[] = [];
    const fakeSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      delays.push(ms);
      return fakeSetTimeout(fn, ms);
    }) as typeof setTimeout);
    let clock = 0;
    const released: number[] = [];
    const pacer = new LinkPacer(
      10_000,
      () => released.push(clock),
      () => clock,
    );
    for (let i = 0; i < 5; i++) pacer.push(new Uint8Array(10)); // due at 10, 20, 30, 40, 50
    // Every timer fires 3 ms late; a relative sleep would drift to 13, 26, 39, ...
    for (const late of [13, 23, 33, 43, 53]) {
      clock = late;
      vi.advanceTimersToNextTimer();
    }
    expect(released).toEqual([13, 23, 33, 43, 53]);
    expect(delays).toEqual([10, 7, 7, 7, 7]);
  });

  it('passes bytes straight through at baud 0', () => {
    const log: number[] = [];
    const pacer = new LinkPacer(0, (b) => log.push(b.length));
    pacer.push(new Uint8Array(3));
    expect(log).toEqual([3]);
  });

  it('drops what is still on the wire when cleared', () => {
    vi.useFakeTimers({ now: 0 });
    const log: number[] = [];
    const pacer = new LinkPacer(
      10_000,
      (b) => log.push(b.length),
      () => Date.now(),
    );
    pacer.push(new Uint8Array(10));
    pacer.clear();
    vi.advanceTimersByTime(100);
    expect(log).toEqual([]);
    expect(pacer.pendingBytes).toBe(0);
  });
});
