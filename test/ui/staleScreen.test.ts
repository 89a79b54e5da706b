/**
 * A page whose station is gone must not look live. A tab left open across a station restart got
 * the banner "no longer accepts this page", but kept slots "▶ RUNNING" with Cancel buttons and
 * the day's counts as they were, indefinitely: a technician could act on them. Under that banner,
 * and once a dropped link has lasted longer than a reconnect takes, each slot reads "UNKNOWN
 * since" the time the link was lost, with no step and no button, and the day's and the outbox's
 * counts are dimmed as not live. Real Chromium against the real headless server, a scripted line.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, openWatchedPage, saveScreenshot } from './browser.js';
import { scriptedUi, serveScripted } from './scriptedUi.js';

const UNKNOWN_SINCE = /^\? UNKNOWN since \d\d:\d\d:\d\d$/;

/** A page on the server with every slot running and the day's counts shown. */
async function pageWithRunningSlots(browser: Browser, url: string): Promise<Page> {
  const { page } = await openWatchedPage(browser, url);
  await page.locator('[data-testid="slot-card"][data-state="running"]').nth(3).waitFor();
  await page.getByTestId('today').filter({ hasText: '12 passed' }).waitFor();
  expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(4);
  expect(await page.locator('[data-unknown-since]').count()).toBe(0);
  return page;
}

/** What a technician sees of the slots and counts once the station's word is unknown. */
async function expectUnknown(page: Page): Promise<void> {
  const states = await page.getByTestId('slot-state').allTextContents();
  expect(states).toHaveLength(4);
  for (const state of states) expect(state.trim()).toMatch(UNKNOWN_SINCE);
  expect(await page.getByText('RUNNING', { exact: false }).allTextContents()).toEqual(
    Array(4)
      .fill('Last shown: RUNNING · serial SN-00')
      .map((t, i) => `${t}${i + 1}`),
  );
  expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  expect(await page.locator('progress').count()).toBe(0);
  const today = page.getByTestId('today');
  expect(await today.getAttribute('class')).toBe('today stale');
  expect(await today.textContent()).toMatch(
    /^12 passed · 1 failed · as of \d\d:\d\d:\d\d, not live$/,
  );
  expect(await page.locator('footer.outbox.stale').count()).toBe(1);
}

describe.skipIf(chromiumMissing)('the station UI once the station is gone', () => {
  const ui = scriptedUi({
    prepare: (line) => {
      line.reportToday({ since: new Date().toISOString(), passed: 12, failed: 1, cancelled: 0 });
      line.startAll();
    },
  });

  it('marks every slot and count unknown under "no longer accepts this page"', async () => {
    const page = await pageWithRunningSlots(ui.browser, ui.server.url);
    const { port } = ui.server;
    await ui.server.close();
    // A restarted station makes a new token: this page's link never opens the API again.
    ui.server = await serveScripted(ui.line, { port });
    await page.getByRole('alert').filter({ hasText: 'Open the new link it printed' }).waitFor();
    await page.locator('[data-unknown-since]').nth(3).waitFor({ timeout: 10_000 });
    await expectUnknown(page);
    await saveScreenshot(page, 'ui-unknown-after-restart.png');
    await page.close();
  });

  it('marks them unknown once a dropped link outlasts the reconnect grace, and live again after', async () => {
    const page = await pageWithRunningSlots(ui.browser, ui.server.url);
    const { port, token } = ui.server;
    await ui.server.close();
    await page.getByRole('alert').filter({ hasText: 'Disconnected from the station' }).waitFor();
    // Due RECONNECT_GRACE_MS (5 s) after the link dropped.
    await page.locator('[data-unknown-since]').nth(3).waitFor({ timeout: 15_000 });
    await expectUnknown(page);

    // Same port and token, as a restarted station that kept its session would have.
    ui.server = await serveScripted(ui.line, { port, token });
    await page.locator('[data-unknown-since]').first().waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(4);
    expect(await page.getByTestId('today').getAttribute('class')).toBe('today');
    await page.close();
  });
});
