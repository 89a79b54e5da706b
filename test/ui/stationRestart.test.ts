/**
 * `station serve` takes a new port at every start, so after a crash, a power cut or a restart the
 * page's old address is refused before its socket opens: the close code says nothing of a new
 * token, and the page would say "reconnecting" all shift. Once the link has been down for about
 * 30 s the banner must add what to do (open the new link the station printed, or ask a
 * supervisor), go on retrying, and go once the station is back on the old port. Real Chromium
 * against the real headless server on a scripted line; the page's clock skips the long wait.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { chromiumMissing, saveScreenshot } from './browser.js';
import { scriptedUi, serveScripted } from './scriptedUi.js';

/** A page on `url` whose timers the test can fast-forward, with every slot shown. */
async function pageWithClock(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.clock.install();
  await page.goto(url);
  await page.locator('[data-testid="slot-card"]').nth(3).waitFor();
  return page;
}

describe.skipIf(chromiumMissing)('the station UI after the station restarted elsewhere', () => {
  const ui = scriptedUi();

  it('says to open the new link once the link is down for long, and clears on reconnect', async () => {
    const page = await pageWithClock(ui.browser, ui.server.url);
    const { port, token } = ui.server;
    const banner = page.locator('.connection-banner');

    await ui.server.close();
    // The station comes back as `serve` starts it: a new port and a new token.
    ui.server = await serveScripted(ui.line);
    await banner.filter({ hasText: 'Disconnected from the station — reconnecting' }).waitFor();
    await page.clock.fastForward(31_000);
    await banner.filter({ hasText: 'open the new link it printed' }).waitFor({ timeout: 10_000 });
    await banner.filter({ hasText: 'ask a supervisor' }).waitFor();
    await saveScreenshot(page, 'ui-reconnecting-long.png');

    // It keeps retrying: a station back on the old port (`--port N`) is live again.
    await ui.server.close();
    ui.server = await serveScripted(ui.line, { port, token });
    await page.clock.fastForward(11_000);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await page.close();
  });
});
