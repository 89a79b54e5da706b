/**
 * A station that hangs keeps its socket open, so the page cannot tell from the link alone. The
 * real `station serve --demo` process is frozen (SIGSTOP, as a stuck loop or a frozen machine
 * would freeze it): the page must say within seconds that the station is not answering, dim the
 * slots and refuse commands, then clear all three once the process runs again, without a reload.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDemo } from '../e2e/serveDemoProcess.js';
import { chromiumMissing, launchChromium, openWatchedPage, saveScreenshot } from './browser.js';

describe.skipIf(chromiumMissing)('a station that stops answering', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is shown as not answering while frozen, and as live again once it runs', async () => {
    const served = await serveDemo();
    try {
      const { page, problems } = await openWatchedPage(browser, served.url);
      const slots = 8;
      await page
        .locator('[data-testid="slot-card"][data-state="pass"]')
        .nth(slots - 1)
        .waitFor({ timeout: 20_000 });
      const banner = page.locator('.connection-banner');
      expect(await banner.count()).toBe(0);

      served.signal('SIGSTOP');
      // Pings go every 2 s and count as late after 6 s: the banner is due within about 8 s.
      await page.locator('.connection-not-answering').waitFor({ timeout: 15_000 });
      expect(await banner.textContent()).toContain('The station is not answering');
      expect(await page.locator('main.slot-grid.stale').count()).toBe(1);
      // No command can be pressed into a station that would run it whenever it recovers.
      expect(await page.getByRole('button', { name: 'Pause sync' }).isDisabled()).toBe(true);
      await saveScreenshot(page, 'station-not-answering.png');

      served.signal('SIGCONT');
      await banner.waitFor({ state: 'detached', timeout: 10_000 });
      expect(await page.locator('main.slot-grid.stale').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Pause sync' }).isDisabled()).toBe(false);
      const states = await page.locator('[data-testid="slot-state"]').allTextContents();
      expect(states.every((t) => t.includes('PASS'))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      served.signal('SIGCONT');
      await served.stop();
    }
    // A real serve process, its 8 runs and a freeze of about 8 s: some 25 s alone, more beside
    // other suites on two cores.
  }, 60_000);
});
