import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { EventEmitter } from 'node:events';
import { open, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hangupAwareRead } from './hangupAwareBinding.js';

async function portOn(content: string) {
  const file = join(await mkdtemp(join(tmpdir(), 'ls-hangup-')), 'tty');
  await writeFile(file, content);
  const handle = await open(file, 'r');
  const port = {
    fd: handle.fd as number | null,
    isOpen: true,
    poller: new EventEmitter(),
    read: async () => ({ buffer: Buffer.alloc(0), bytesRead: 0 }),
  };
  return { port, handle };
}

describe('hangupAwareRead', () => {
  it('returns the bytes that are there', async () => {
    const { port, handle } = await portOn('abc');
    const { bytesRead, buffer } = await hangupAwareRead(port)(Buffer.alloc(8), 0, 8);
    expect(buffer.subarray(0, bytesRead).toString()).toBe('abc');
    await handle.close();
  });

  it('reports end of file (a hung-up tty) as a disconnect instead of spinning', async () => {
    const { port, handle } = await portOn('');
    const err = await hangupAwareRead(port)(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    expect(err).toMatchObject({ disconnect: true, message: expect.stringMatching(/hung up/) });
    await handle.close();
  });

  it('cancels quietly once the port is closed', async () => {
    const { port, handle } = await portOn('abc');
    port.isOpen = false;
    const err = await hangupAwareRead(port)(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    expect(err).toMatchObject({ canceled: true });
    await handle.close();
  });

  it('does not poll a port that closed while its read was in flight (the poller is gone)', async () => {
    // A FIFO with a writer but no data: a non-blocking read answers EAGAIN, as an idle tty does.
    const fifo = join(await mkdtemp(join(tmpdir(), 'ls-hangup-')), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = await open(fifo, 'w');
    let polled = 0;
    const poller = new EventEmitter();
    const port = {
      fd: reader.fd as number | null,
      isOpen: true,
      poller: {
        once: (event: string, listener: (...args: unknown[]) => void) => {
          polled++;
          return poller.once(event, listener);
        },
      },
      read: async () => ({ buffer: Buffer.alloc(0), bytesRead: 0 }),
    };
    const reading = hangupAwareRead(port)(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    // close() runs while the read is in the thread pool.
    port.isOpen = false;
    expect(await reading).toMatchObject({ canceled: true });
    expect(polled).toBe(0);
    await writer.close();
    await reader.close();
  });
});
