/**
 * `station serve --demo` as a supervisor opens it: the real station process (simulated devices
 * on real ttys, DEMO CA, SQLite store) serving its UI; Chromium reads the page until every slot
 * shows PASS, and the screenshot is kept as a test artifact.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDemo } from '../e2e/serveDemoProcess.js';
import { chromiumMissing, launchChromium, openWatchedPage, saveScreenshot } from './browser.js';

describe.skipIf(chromiumMissing)('the DEMO line in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows every slot reaching PASS and the enrollments waiting in the outbox', async () => {
    const served = await serveDemo();
    try {
      const url = served.url;
      const { page, problems } = await openWatchedPage(browser, url);
      const cards = page.locator('[data-testid="slot-card"]');
      await cards.first().waitFor();
      const slots = await cards.count();
      expect(slots).toBe(8);
      // Every card reaches PASS; read from the page, as an operator would.
      await page
        .locator('[data-testid="slot-card"][data-state="pass"]')
        .nth(slots - 1)
        .waitFor({ timeout: 20_000 });
      await expect(
        page.getByRole('status', { name: 'DEMO line' }).textContent(),
      ).resolves.toContain('DEMO');
      const passTexts = await page.locator('[data-testid="slot-state"]').allTextContents();
      expect(passTexts.every((t) => t.includes('PASS'))).toBe(true);
      await page.locator('[data-testid="outbox-pending"]', { hasText: /^8$/ }).waitFor();
      await saveScreenshot(page, 'demo-line.png');
      expect(problems).toEqual([]);
    } finally {
      await served.stop();
    }
  });
});
