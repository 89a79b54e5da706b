import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAllocationWebhook } from './customAllocationWebhook.js';

/** A webhook that answers 200 and then streams bytes for as long as the caller keeps reading. */
let sentBytes = 0;
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    // Bounded: stops when the caller hangs up, and at 256 MB whatever happens.
    while (!res.destroyed && sentBytes < 256 * 1024 * 1024) {
      sentBytes += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
let url: string;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/allocate`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('callAllocationWebhook', () => {
  it('stops reading an answer larger than a DPS message instead of buffering it', async () => {
    const request = { deviceRuntimeContext: { registrationId: 'dev-1' }, linkedHubs: ['h'] };
    await expect(callAllocationWebhook(url, request, 3000)).rejects.toThrow(/larger than/);
    expect(sentBytes).toBeLessThan(16 * 1024 * 1024);
  });
});
