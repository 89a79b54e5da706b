/**
 * A link that stops carrying anything without closing (a network blip, a UI on another machine,
 * a half-open socket) looks like a hung station: the page says the station is not answering.
 * After about 25 s of that the page must drop the link and make a new one, with a fresh snapshot,
 * rather than tell the technician to have the station restarted. A station that is merely slow
 * and answers before then keeps its link. Real Chromium against the real headless server on a
 * scripted line; the test holds back the messages of the links it freezes, and the page's clock
 * skips the long wait.
 */
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing } from './browser.js';
import { scriptedUi } from './scriptedUi.js';

/** The page's links to the station, each of which the test can freeze and thaw. */
class Links {
  readonly #all: Array<{ frozen: boolean; held: Array<() => void> }> = [];

  get count(): number {
    return this.#all.length;
  }

  /** Routes `page`'s API sockets through this, before it opens any. */
  async route(page: Page): Promise<void> {
    await page.routeWebSocket(/\/api\?token=/, (ws: WebSocketRoute) => {
      const link = { frozen: false, held: [] as Array<() => void> };
      this.#all.push(link);
      const station = ws.connectToServer();
      const pass = (deliver: () => void): void => {
        if (link.frozen) link.held.push(deliver);
        else deliver();
      };
      ws.onMessage((message) => pass(() => station.send(message)));
      station.onMessage((message) => pass(() => ws.send(message)));
    });
  }

  /** Holds back every message on the links open now, both ways; later links are not touched. */
  freeze(): void {
    for (const link of this.#all) link.frozen = true;
  }

  /** Delivers what was held back, late, and lets the links carry messages again. */
  thaw(): void {
    for (const link of this.#all) {
      link.frozen = false;
      for (const deliver of link.held.splice(0)) deliver();
    }
  }
}

/** A page on `url` with its links routed and its timers under the test's hand. */
async function pageWithLinks(browser: Browser, url: string, links: Links): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await links.route(page);
  await page.clock.install();
  await page.goto(url);
  await page.locator('[data-testid="slot-card"]').nth(3).waitFor();
  return page;
}

describe.skipIf(chromiumMissing)('a link that stops carrying messages', () => {
  const ui = scriptedUi();

  it('is dropped and made again once the station has not answered for long', async () => {
    const links = new Links();
    const page = await pageWithLinks(ui.browser, ui.server.url, links);
    const banner = page.locator('.connection-banner');
    expect(links.count).toBe(1);

    links.freeze();
    // Pings go every 2 s and count as late after 6 s.
    await page.locator('.connection-not-answering').waitFor({ timeout: 15_000 });
    await page.clock.fastForward(26_000);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    expect(links.count).toBe(2);
    // The new link is live: an event from the station reaches the page.
    ui.line.startAll();
    await page.locator('[data-testid="slot-card"][data-state="running"]').nth(3).waitFor();
    await page.close();
  });

  it('is kept when the station answers late, before the page gives up on it', async () => {
    const links = new Links();
    const page = await pageWithLinks(ui.browser, ui.server.url, links);
    const banner = page.locator('.connection-banner');

    links.freeze();
    await page.locator('.connection-not-answering').waitFor({ timeout: 15_000 });
    links.thaw();
    await banner.waitFor({ state: 'detached', timeout: 5_000 });
    // Well past the time a silent link is given. The jump itself may make a ping look late for a
    // moment, as a laptop lid would; the next answer clears that. No new link may be made.
    await page.clock.fastForward(26_000);
    await page.waitForTimeout(1_000);
    await banner.waitFor({ state: 'detached', timeout: 5_000 });
    expect(links.count).toBe(1);
    await page.close();
  });
});
