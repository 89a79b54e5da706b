import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpTransport } from '../transports/tcpTransport.js';
import { DeviceSession } from './deviceSession.js';
import { codeOf } from './testing/scriptedDevice.js';

/**
 * A device that stops taking bytes behind a serial device server: the server accepts the
 * connection and never reads, so the TCP send window closes and a write never completes.
 */
describe('DeviceSession over a device server whose device stopped taking bytes', () => {
  let server: Server | undefined;
  const accepted: Socket[] = [];
  afterEach(async () => {
    for (const s of accepted.splice(0)) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A session on a server that never reads, its link already full. */
  async function stalledSession(timeoutScale: number) {
    server = createServer({ pauseOnConnect: true }, (s) => accepted.push(s));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const transport = new TcpTransport({ host: '127.0.0.1', port });
    const session = await DeviceSession.open(transport, { timeoutScale });
    await fillLink(transport);
    return { session, transport };
  }

  /**
   * Writes 1 MiB blocks past the session until one is not taken within 200 ms: the kernel's
   * buffers on both ends are full. Bounded: loopback buffers hold a few MiB.
   */
  async function fillLink(transport: TcpTransport): Promise<void> {
    const block = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) {
      const written = transport.write(block).then(
        () => true,
        () => true, // failed by the session's close, later
      );
      const taken = await Promise.race([written, delay(200).then(() => false)]);
      if (!taken) return;
    }
    throw new Error('the link took 64 MiB without filling');
  }

  it('fails the request with WIRE_TIMEOUT within the stall bound and closes the link', async () => {
    // timeoutScale 0.05: a stall bound of 100 ms, while the request itself would wait 10 s.
    const { session, transport } = await stalledSession(0.05);
    const closed = new Promise((r) => session.onClosed.on(r));
    const started = performance.now();
    const code = await codeOf(session.request('GET_CONFIG', { bank: 0 }, { timeoutMs: 10_000 }));
    const elapsed = performance.now() - started;
    expect(code).toBe('WIRE_TIMEOUT');
    expect(elapsed).toBeLessThan(1_500);
    expect(await closed).toMatchObject({ code: 'WIRE_TIMEOUT' });
    expect(session.isClosed).toBe(true);
    await waitFor(() => !transport.isOpen);
    // The session stays closed: a later request fails at once with the same code.
    expect(await codeOf(session.request('GET_CONFIG', { bank: 0 }))).toBe('WIRE_TIMEOUT');
  });

  it('ends the request at once when its signal aborts while the write is pending', async () => {
    // The default scale: a stall bound of 2 s, so only the abort can end the write this soon.
    const { session, transport } = await stalledSession(1);
    const controller = new AbortController();
    const request = codeOf(
      session.request('GET_CONFIG', { bank: 0 }, { signal: controller.signal, timeoutMs: 10_000 }),
    );
    await delay(50);
    const started = performance.now();
    controller.abort(new Error('cancelled by the operator'));
    expect(await request).toBe('WIRE_ABORTED');
    expect(performance.now() - started).toBeLessThan(500);
    expect(session.isClosed).toBe(true);
    await waitFor(() => !transport.isOpen);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await delay(10);
  expect(condition()).toBe(true);
}
