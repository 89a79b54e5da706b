import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startDpsEmulator } from './dpsEmulator.js';

describe('close()', () => {
  it('ends a connection that never finished its TLS handshake instead of waiting for it', async () => {
    const emulator = await startDpsEmulator({ rateLimit: false });
    // A client that connects and says nothing (a crashed device, a port scanner, a slow loris):
    // not yet an HTTP connection, so the HTTP server's own bookkeeping does not know it.
    const silent = connect(emulator.port, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'connect');
    const ended = once(silent, 'close');
    // Node's TLS handshake timeout is 120 s: without the fix this outlives the test timeout.
    await emulator.close();
    await ended;
    expect(silent.destroyed).toBe(true);
  }, 10_000);
});
