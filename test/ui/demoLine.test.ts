/**
 * `station serve --demo` as a supervisor opens it: the real station process (simulated devices
 * on real ttys, DEMO CA, SQLite store, local DPS emulator) serving its UI; Chromium reads the
 * page until every slot shows PASS, the recent runs list those eight, the outbox has drained into
 * DPS and every device shows the hub it registered to; the screenshot is kept as a test artifact.
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

  it('shows every slot reaching PASS, the outbox draining into DPS and each device registered', async () => {
    const served = await serveDemo();
    try {
      const url = served.url;
      const { page, problems } = await openWatchedPage(browser, url);
      const cards = page.locator('[data-testid="slot-card"]');
      // The DEMO line has 8 slots; the grid fills as the station's snapshot and events arrive.
      const slots = 8;
      await cards.nth(slots - 1).waitFor();
      expect(await cards.count()).toBe(slots);
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
      // The header keeps the day's tally: the DEMO's eight runs, none failed.
      await page.locator('[data-testid="today"]', { hasText: /^8 passed · 0 failed$/ }).waitFor();
      // The recent runs list the same eight, each with the registration ID its card shows.
      const runs = page.locator('[data-testid="recent-run"]');
      await page
        .locator('[data-testid="recent-run"][data-state="pass"]')
        .nth(slots - 1)
        .waitFor();
      expect(await runs.count()).toBe(slots);
      const listed = await runs.getByTestId('recent-run-registration-id').allTextContents();
      const shown = await page.getByTestId('slot-registration-id').allTextContents();
      expect(shown).toHaveLength(slots);
      expect(new Set(listed).size).toBe(slots);
      expect([...listed].sort()).toEqual([...shown].sort());
      const results = await runs.getByTestId('recent-run-result').allTextContents();
      expect(results.every((text) => text.includes('PASS'))).toBe(true);
      // The queue drains into the local DPS, and each device then registers from its flash.
      await page.locator('[data-testid="outbox-synced"]', { hasText: /^8$/ }).waitFor();
      await page.locator('[data-testid="outbox-pending"]', { hasText: /^0$/ }).waitFor();
      await page
        .locator('[data-testid="slot-registered-hub"]')
        .nth(slots - 1)
        .waitFor({ timeout: 20_000 });
      const hubs = await page.locator('[data-testid="slot-registered-hub"]').allTextContents();
      expect(hubs.every((hub) => /^demo-hub-\d\.azure-devices\.net$/.test(hub))).toBe(true);
      // The sync says it is up to date; a supervisor can pause it and resume it.
      const syncState = page.locator('[data-testid="sync-state"]');
      await page.locator('[data-testid="sync-state"][data-state="idle"]').waitFor();
      expect(await syncState.textContent()).toContain('up to date');
      await page.getByRole('button', { name: 'Pause sync' }).click();
      await page.locator('[data-testid="sync-state"][data-state="paused"]').waitFor();
      await page.getByRole('button', { name: 'Resume sync' }).click();
      await page.locator('[data-testid="sync-state"][data-state="idle"]').waitFor();
      await saveScreenshot(page, 'demo-line.png');
      expect(problems).toEqual([]);
    } finally {
      await served.stop();
    }
  });

  it('in manual mode, shows each plugged device waiting with Provision, and runs the one pressed', async () => {
    const served = await serveDemo(undefined, ['--manual']);
    try {
      const { page, problems } = await openWatchedPage(browser, served.url);
      const slots = 8;
      // Every simulated device is on its port: each card waits for the technician, none is empty.
      const waiting = page.locator('[data-testid="slot-card"][data-state="waiting"]');
      await waiting.nth(slots - 1).waitFor();
      expect(await page.locator('[data-testid="slot-card"][data-state="empty"]').count()).toBe(0);
      const first = page.locator('[data-testid="slot-card"][data-slot="1"]');
      expect(await first.getByTestId('slot-state').textContent()).toContain('WAITING');
      await expect(
        waiting.getByRole('button', { name: 'Provision', exact: true }).count(),
      ).resolves.toBe(slots);

      await first.getByRole('button', { name: 'Provision', exact: true }).click();
      await page
        .locator('[data-testid="slot-card"][data-slot="1"][data-state="pass"]')
        .waitFor({ timeout: 20_000 });
      // Only the slot pressed ran: the others still wait.
      expect(await waiting.count()).toBe(slots - 1);
      expect(problems).toEqual([]);
    } finally {
      await served.stop();
    }
  });
});
