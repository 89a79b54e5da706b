import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../codec/wireErrors.js';
import { openPtyPair, socatOnPath, type PtyPair } from '../simulator/ptyPair.js';
import { TtySerialTransport } from './ttySerialTransport.js';

const pairs: PtyPair[] = [];
const transports: TtySerialTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(pairs.splice(0).map((p) => p.close()));
});

async function linked(): Promise<[TtySerialTransport, TtySerialTransport, PtyPair]> {
  const pair = await openPtyPair();
  pairs.push(pair);
  const host = new TtySerialTransport({ path: pair.hostPath });
  const device = new TtySerialTransport({ path: pair.devicePath });
  transports.push(host, device);
  await host.open();
  await device.open();
  return [host, device, pair];
}

/** The host end open on a new pair; the device end is left to the test. */
async function hostOnly(
  options: { stallMs?: number } = {},
): Promise<[TtySerialTransport, PtyPair]> {
  const pair = await openPtyPair();
  pairs.push(pair);
  const host = new TtySerialTransport({ path: pair.hostPath, ...options });
  transports.push(host);
  await host.open();
  return [host, pair];
}

function received(t: TtySerialTransport, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const dispose = t.onData((bytes) => {
      chunks.push(Buffer.from(bytes));
      if (Buffer.concat(chunks).length >= count) {
        dispose();
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

/**
 * Another process holding `path` open, as a device would: it reads nothing for `quietMs` (a hung
 * firmware), then drains the port and, once `expectBytes` arrived, prints their SHA-256.
 */
async function slowReader(
  path: string,
  quietMs: number,
  expectBytes = Infinity,
): Promise<{ child: ChildProcess; digest: Promise<string> }> {
  const script = `
    const fs = require('node:fs');
    const hash = require('node:crypto').createHash('sha256');
    const fd = fs.openSync(${JSON.stringify(path)}, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    process.stdout.write('ready\\n');
    let got = 0;
    setTimeout(() => fs.createReadStream('', { fd }).on('data', (chunk) => {
      hash.update(chunk);
      got += chunk.length;
      if (got >= ${expectBytes}) process.stdout.write(hash.digest('hex') + ' ' + got + '\\n');
    }), ${quietMs});
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  await lines.next();
  const digest = lines.next().then((line) => String(line.value));
  return { child, digest };
}

describe.runIf(process.platform === 'linux' && socatOnPath())(
  'TtySerialTransport on real ptys',
  () => {
    it('carries every byte value both ways, in order', async () => {
      const [host, device] = await linked();
      const all = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
      const atDevice = received(device, all.length);
      await host.write(all);
      expect(await atDevice).toEqual(all);
      const reply = Buffer.from([0, 0xff, 0x11, 0x13, 0x0d, 0x0a]); // NUL, XON/XOFF, CR LF: raw
      const atHost = received(host, reply.length);
      await device.write(reply);
      expect(await atHost).toEqual(reply);
    });

    it('keeps the order of writes while the tty cannot take them at once', async () => {
      const [host, pair] = await hostOnly();
      const first = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i % 251));
      const second = Buffer.alloc(4096, 0xa5);
      const device = await slowReader(pair.devicePath, 50, first.length + second.length);
      try {
        // Far beyond what a pty buffers: the tty takes part of it, the rest waits in the queue.
        const writes = [host.write(first)];
        // This thread sleeps while the device drains the tty, so the queue is still waiting
        // when the next write comes and finds room in the tty. It must go behind the queue.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        writes.push(host.write(second));
        await Promise.all(writes);
        const all = Buffer.concat([first, second]);
        expect(await device.digest).toBe(
          `${createHash('sha256').update(all).digest('hex')} ${all.length}`,
        );
      } finally {
        device.child.kill();
      }
    });

    it('keeps the station running while a device takes no bytes, and fails that write on close', async () => {
      const [host, pair] = await hostOnly();
      // The device end, held by another process that reads nothing for a second (a hung USB
      // CDC-ACM firmware), then drains: a blocking write would hold this event loop for that
      // second, and the test would fail on the timer below instead of hanging.
      const device = await slowReader(pair.devicePath, 1_000);
      try {
        const settled = host.write(Buffer.alloc(1 << 20, 0x55)).then(
          () => 'written',
          () => 'failed',
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await Promise.race([settled, 'pending'])).toBe('pending');
        await host.close();
        expect(await settled).toBe('failed');
      } finally {
        device.child.kill();
      }
    });

    it('drops the bytes the device has not taken when it closes, rather than wait for them', async () => {
      const [host, device, pair] = await linked();
      const hello = received(device, 5);
      await host.write(Buffer.from('hello'));
      expect((await hello).toString()).toBe('hello');
      const later: Buffer[] = [];
      device.onData((bytes) => later.push(Buffer.from(bytes)));
      // socat paused: the bytes stay in the host's tty, as on an adapter whose device stopped
      // reading. A real serial driver's last close would wait up to 30 s for them to leave.
      // On a pty only what is still in the tty's buffers can be dropped: the first 4 KiB sit in
      // the other end's line discipline already.
      process.kill(pair.socatPid, 'SIGSTOP');
      const unsent = 32 * 1024;
      try {
        const writing = host.write(Buffer.alloc(unsent, 0x5a)).catch(() => undefined);
        await host.close();
        await writing;
      } finally {
        process.kill(pair.socatPid, 'SIGCONT');
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(Buffer.concat(later).length).toBeLessThanOrEqual(8 * 1024);
    });

    it('reports a device that takes no bytes at all as WIRE_TIMEOUT, and closes the link', async () => {
      const [host, pair] = await hostOnly({ stallMs: 200 });
      const closes: (Error | undefined)[] = [];
      host.onClose((err) => closes.push(err));
      const device = await slowReader(pair.devicePath, 60_000);
      try {
        const started = performance.now();
        await expect(host.write(Buffer.alloc(1 << 20, 0x55))).rejects.toMatchObject({
          code: 'WIRE_TIMEOUT',
          detail: expect.stringContaining('took no bytes'),
        });
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(host.isOpen).toBe(false);
        expect(closes).toHaveLength(1);
        expect(closes[0]).toMatchObject({ code: 'WIRE_TIMEOUT' });
      } finally {
        device.child.kill();
      }
    });

    it('hands on chunks that stay intact after later reads reuse the port buffer', async () => {
      const [host, device] = await linked();
      const first = new Promise<Uint8Array>((resolve) => {
        const dispose = device.onData((bytes) => {
          dispose();
          resolve(bytes);
        });
      });
      await host.write(Buffer.from('hello'));
      const kept = await first;
      const later = received(device, 5);
      await host.write(Buffer.from('WORLD'));
      await later;
      expect(Buffer.from(kept).toString()).toBe('hello');
    });

    it('reports a hang-up (the cable pulled) as a close with an error, once', async () => {
      const [host, , pair] = await linked();
      const closes: (Error | undefined)[] = [];
      const closed = new Promise<void>((resolve) =>
        host.onClose((err) => {
          closes.push(err);
          resolve();
        }),
      );
      await pair.close();
      await closed;
      expect(closes).toHaveLength(1);
      expect(closes[0]).toBeInstanceOf(Error);
      expect(host.isOpen).toBe(false);
      await expect(host.write(Buffer.from([1]))).rejects.toThrow(/not open/);
    });

    it('closes on purpose without an error, and refuses a missing port with WIRE_PORT_OPEN_FAILED', async () => {
      const [host] = await linked();
      const closes: (Error | undefined)[] = [];
      host.onClose((err) => closes.push(err));
      await host.close();
      await host.close();
      expect(closes).toEqual([undefined]);
      const missing = new TtySerialTransport({ path: '/dev/ttyLS-missing' });
      await expect(missing.open()).rejects.toThrow(WireError);
      await expect(missing.open()).rejects.toMatchObject({ code: 'WIRE_PORT_OPEN_FAILED' });
    });

    it('holds the port exclusively while open, and leaves no descriptor behind when closed', async () => {
      const [host, pair] = await hostOnly();
      // A second station (`station provision` on a port `serve` watches) must not run on the
      // same device.
      const second = new TtySerialTransport({ path: pair.hostPath });
      transports.push(second);
      await expect(second.open()).rejects.toMatchObject({ code: 'WIRE_PORT_OPEN_FAILED' });

      await host.close();
      expect(await descriptorsOn(pair.hostPath)).toEqual([]);
      await second.open();
      expect(second.isOpen).toBe(true);
    });
  },
);

/** This process's descriptors that point at `path`. */
async function descriptorsOn(path: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(
    fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return fds.filter((_, i) => targets[i] === path);
}
