/**
 * A link that never opens (a page on another machine behind a network that drops packets, a
 * station host gone without a reset) must not leave the page saying "Connecting" for the
 * minutes the browser gives it: the page gives up on it after CONNECT_TIMEOUT_MS and tries again.
 * Real Chromium against the real headless server on a scripted line, through a loopback relay
 * that swallows the page's first link request and passes everything else on; the page's clock
 * skips the wait.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { chromiumMissing } from './browser.js';
import { scriptedUi } from './scriptedUi.js';

/**
 * A relay on 127.0.0.1 to the station's port. The first `/api` request it sees gets no answer,
 * as if lost on the way; it passes every other connection on, with the page's Origin put back to
 * the station's own (the station refuses a link from a page of another origin).
 */
async function startRelay(
  stationPort: number,
): Promise<{ port: number; linkRequests: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let linkRequests = 0;
  let port = 0;
  const server: Server = createServer((page) => {
    sockets.add(page);
    page.once('close', () => sockets.delete(page));
    page.once('data', (first: Buffer) => {
      let head = first.toString('latin1');
      if (head.startsWith('GET /api')) {
        linkRequests++;
        if (linkRequests === 1) return; // swallowed: the socket stays open, unanswered
        head = head.replace(`http://127.0.0.1:${port}`, `http://127.0.0.1:${stationPort}`);
      }
      const station = connect(stationPort, '127.0.0.1');
      sockets.add(station);
      station.once('close', () => sockets.delete(station));
      station.on('error', () => page.destroy());
      page.on('error', () => station.destroy());
      station.write(Buffer.from(head, 'latin1'));
      page.pipe(station).pipe(page);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    port,
    linkRequests: () => linkRequests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The page's CONNECT_TIMEOUT_MS (renderer/src/stationPipe.ts, which only a browser can load). */
const CONNECT_TIMEOUT_MS = 10_000;

describe.skipIf(chromiumMissing)('a link that never opens', () => {
  const ui = scriptedUi();

  it('is given up after the connect timeout and made again', async () => {
    const station = new URL(ui.server.url);
    const relay = await startRelay(Number(station.port));
    const page = await ui.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      await page.clock.install();
      await page.goto(`http://127.0.0.1:${relay.port}/${station.search}`);
      await page.locator('.connection-banner').waitFor();
      expect(relay.linkRequests()).toBe(1);
      // Still connecting just short of the timeout: nothing was tried again yet.
      await page.clock.runFor(CONNECT_TIMEOUT_MS - 1_000);
      expect(relay.linkRequests()).toBe(1);
      expect(await page.locator('[data-testid="slot-card"]').count()).toBe(0);
      // Past it, and past the first retry's pause: the second link opens and the line shows.
      await page.clock.runFor(5_000);
      await page.locator('[data-testid="slot-card"]').nth(3).waitFor({ timeout: 10_000 });
      await page.locator('.connection-banner').waitFor({ state: 'detached', timeout: 5_000 });
      expect(relay.linkRequests()).toBe(2);
    } finally {
      await page.close();
      await relay.close();
    }
  });
});
