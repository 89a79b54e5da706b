import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WireError } from '../codec/wireErrors.js';
import { writeWithin } from './writeDeadline.js';

const stalled = (): WireError => new WireError('WIRE_TIMEOUT', 'took no bytes');

function pendingWrite() {
  let complete!: () => void;
  const writing = new Promise<void>((r) => (complete = r));
  return { writing, complete };
}

describe('writeWithin', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  });
  afterEach(() => vi.useRealTimers());

  it('leaves no timer and no abort listener behind when the OS takes the write at once', async () => {
    const signal = new AbortController().signal;
    const listens = vi.spyOn(signal, 'addEventListener');
    await writeWithin(Promise.resolve(), 100, signal, stalled);
    expect(vi.getTimerCount()).toBe(0);
    expect(listens).not.toHaveBeenCalled();
  });

  it('arms the deadline only for a write still pending a loop turn later, and disarms it', async () => {
    const signal = new AbortController().signal;
    const listens = vi.spyOn(signal, 'addEventListener');
    const unlistens = vi.spyOn(signal, 'removeEventListener');
    const { writing, complete } = pendingWrite();
    const written = writeWithin(writing, 100, signal, stalled);
    await vi.advanceTimersByTimeAsync(0); // the Immediate
    expect(listens).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);
    complete();
    await written;
    expect(vi.getTimerCount()).toBe(0);
    expect(unlistens).toHaveBeenCalledTimes(1);
  });

  it('fails a write pending past its deadline with the stall error', async () => {
    let failed = false;
    const outcome = writeWithin(pendingWrite().writing, 100, undefined, stalled).catch(
      (e: unknown) => {
        failed = true;
        return e;
      },
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(failed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(await outcome).toMatchObject({ code: 'WIRE_TIMEOUT' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails a pending write at once with WIRE_ABORTED when its signal fires', async () => {
    const controller = new AbortController();
    const outcome = writeWithin(pendingWrite().writing, 100, controller.signal, stalled).catch(
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('cancelled by the operator'));
    expect(await outcome).toMatchObject({ code: 'WIRE_ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes on the error of a write that fails', async () => {
    const outcome = writeWithin(Promise.reject(new Error('EPIPE')), 100, undefined, stalled).catch(
      (e: unknown) => e,
    );
    expect(await outcome).toMatchObject({ message: 'EPIPE' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
