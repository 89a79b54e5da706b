/**
 * CoreHost without the Electron binary: `electron` is replaced by a fake utilityProcess whose
 * children the test drives (messages, exits), with fake timers for the restart and stop waits.
 */
import { EventEmitter } from 'node:events';
import type { SafeStorage } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { messageTimeoutMs } from '../firmware-bridge/codec/messages.js';
import type { AsyncSafeStorage } from './secretStorageHost.js';

/** A forked core as the test sees it: what main posted to it, and whether it was killed. */
class FakeChild extends EventEmitter {
  readonly posted: unknown[] = [];
  killed = false;
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.killed = true;
    return true;
  }
}

const children: FakeChild[] = [];

vi.mock('electron', () => ({
  utilityProcess: {
    fork: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
  },
  MessageChannelMain: class {
    port1 = {};
    port2 = {};
  },
}));

const { CoreHost } = await import('./coreHost.js');

type TestStorage = AsyncSafeStorage & { getSelectedStorageBackend(): string };

function storage(encrypt: (text: string) => Promise<Buffer>): TestStorage {
  return {
    getSelectedStorageBackend: () => 'gnome_libsecret',
    isAsyncEncryptionAvailable: () => Promise.resolve(true),
    encryptStringAsync: encrypt,
    decryptStringAsync: () => Promise.resolve({ result: '', shouldReEncrypt: false }),
  };
}

function host(safeStorage: TestStorage) {
  const core = new CoreHost({
    entry: 'coreEntry.js',
    safeStorage: safeStorage as unknown as SafeStorage,
  });
  core.start();
  const child = children.at(-1);
  if (!child) throw new Error('no core was forked');
  return { core, child };
}

const secretResults = (child: FakeChild) =>
  child.posted.filter((m) => (m as { type: string }).type === 'secret-result');

describe('CoreHost', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    children.length = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('does not hand a crashed core’s key-store answer to the core started after it', async () => {
    let finishEncrypt: (value: Buffer) => void = () => {};
    const slowEncrypt = () => new Promise<Buffer>((resolve) => (finishEncrypt = resolve));
    const { child: first } = host(storage(slowEncrypt));
    first.emit('message', { type: 'secret-request', id: 1, op: 'encrypt', data: 'key' });

    first.emit('exit', 1);
    await vi.advanceTimersByTimeAsync(1_000);
    const second = children[1];
    if (!second) throw new Error('the crashed core was not restarted');
    // The new core's own first request has id 1 as well: an answer meant for the old one would
    // settle it with the wrong value.
    second.emit('message', { type: 'secret-request', id: 1, op: 'isAvailable' });
    await vi.advanceTimersByTimeAsync(0);
    finishEncrypt(Buffer.from('sealed'));
    await vi.advanceTimersByTimeAsync(0);

    expect(secretResults(second)).toEqual([
      { type: 'secret-result', id: 1, ok: true, value: 'true' },
    ]);
  });

  it('lets a stopping core finish a device COMMIT, with its retries, before killing it', async () => {
    const { core, child } = host(storage(() => Promise.resolve(Buffer.alloc(0))));
    child.emit('message', { type: 'ready' });
    const stopped = core.stop();
    expect(child.posted).toContainEqual({ type: 'stop' });

    // PROTOCOL.md §6.1: COMMIT is retried twice with the same id, after up to the longest
    // guidance of BUSY answers; the line waits for a COMMIT on the wire to end.
    const longest = Math.max(...Object.values(messageTimeoutMs));
    await vi.advanceTimersByTimeAsync(3 * messageTimeoutMs.COMMIT + longest);
    expect(child.killed).toBe(false);

    child.emit('exit', 0);
    await stopped;
    expect(child.killed).toBe(false);
  });

  it('kills a core that does not stop at all, in the end', async () => {
    const { core, child } = host(storage(() => Promise.resolve(Buffer.alloc(0))));
    const stopped = core.stop();
    await vi.runAllTimersAsync();
    await stopped;
    expect(child.killed).toBe(true);
  });

  it('counts crashes in a row, and starts again from one after a core that stayed up', async () => {
    const { core, child } = host(storage(() => Promise.resolve(Buffer.alloc(0))));
    const streak: number[] = [];
    core.onExit.on((exit) => streak.push(exit.crashesInARow));
    child.emit('exit', 1);
    for (let i = 0; i < 2; i++) {
      await vi.runOnlyPendingTimersAsync(); // the restart
      children.at(-1)!.emit('exit', 1);
    }
    await vi.runOnlyPendingTimersAsync();
    await vi.advanceTimersByTimeAsync(60_000); // this one stays up a minute
    children.at(-1)!.emit('exit', 1);
    expect(streak).toEqual([1, 2, 3, 1]);
  });
});
