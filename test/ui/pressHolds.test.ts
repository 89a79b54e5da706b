/**
 * Presses in real Chromium whose second click, or whose keyboard focus, lands on a button that
 * the first press swapped in: a double-click on a slot's Cancel or on Pause / Resume sync sends
 * one command, Enter on a slot's button leaves the focus on its card, and a refusal of one sync
 * action stays when another one goes through.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, openWatchedPage, slotCard } from './browser.js';
import { scriptedUi } from './scriptedUi.js';

const cardIn = (page: Page, slot: number, state: string) =>
  page.locator(`[data-testid="slot-card"][data-slot="${slot}"][data-state="${state}"]`);

/**
 * Switches the line's mode and waits for the switch: one round trip to the station, so a command
 * a click before it sent has been recorded by then. Returns the command it sent.
 */
async function roundTrip(page: Page): Promise<string> {
  const manual = await page.locator('button[aria-pressed="true"]', { hasText: 'Manual' }).count();
  const next = manual > 0 ? 'Auto' : 'Manual';
  await page.getByRole('button', { name: next, exact: true }).click();
  await page.locator('button[aria-pressed="true"]', { hasText: next }).waitFor();
  return `setMode ${next.toLowerCase()}`;
}

/** The focused element's slot number, or its tag name when it is not a card. */
const focusedOn = (page: Page) =>
  page.evaluate<string>(
    `document.activeElement?.getAttribute('data-slot') ?? document.activeElement?.tagName ?? 'none'`,
  );

describe.skipIf(chromiumMissing)('presses that swap their button, in Chromium', () => {
  const ui = scriptedUi({
    prepare: (line) => line.reportSync({ state: 'paused', connection: 'online' }),
  });

  it('takes no Provision from the second click of a double-click on Cancel', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.startAll();
    const cancel = cardIn(page, 2, 'running').getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    // The page's time stands still between the two clicks, as in a double-click (the station's
    // answer and events still arrive: they are messages, not timers).
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
    const before = ui.line.commands.length;
    await cancel.click();
    // The run stopped at once and "Provision again" took the place of the Cancel pressed.
    const again = cardIn(page, 2, 'cancelled').getByRole('button', { name: 'Provision again' });
    await again.waitFor();
    expect(await again.isDisabled()).toBe(true);
    await again.click({ force: true }); // the second click of the double-click lands on it
    const trip = await roundTrip(page);
    expect(ui.line.commands.slice(before)).toEqual(['cancel 2', trip]);
    // Past the double-click time, it is a press of its own.
    await page.clock.runFor(600);
    await again.click();
    await expect
      .poll(() => ui.line.commands.slice(before))
      .toEqual(['cancel 2', trip, 'provision 2']);
    await page.clock.resume();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('leaves the focus on the card whose button the keyboard pressed', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.fail(3);
    const again = cardIn(page, 3, 'fail').getByRole('button', { name: 'Provision again' });
    await again.focus();
    await page.keyboard.press('Enter');
    await cardIn(page, 3, 'running').waitFor();
    // The pressed button went; its card holds the focus, not the page's body.
    await expect.poll(() => focusedOn(page)).toBe('3');
    // So Tab goes on from there: to the card's Cancel, once the double-click time is over.
    const cancel = slotCard(page, 3).getByRole('button', { name: 'Cancel' });
    await expect.poll(() => cancel.isEnabled()).toBe(true);
    await page.keyboard.press('Tab');
    await expect
      .poll(() => cancel.evaluate((el) => el === el.ownerDocument.activeElement))
      .toBe(true);
    await page.keyboard.press('Enter');
    await cardIn(page, 3, 'cancelled').waitFor();
    await expect.poll(() => focusedOn(page)).toBe('3');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('takes no Pause from the second click of a double-click on Resume sync', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.reportSync({ state: 'paused', connection: 'online' });
    const resume = page.getByRole('button', { name: 'Resume sync' });
    await resume.waitFor();
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
    const before = ui.line.commands.length;
    await resume.click();
    // The station resumed it at once: Pause sync took the place of the button pressed.
    await page.locator('[data-testid="sync-state"][data-state="idle"]').waitFor();
    const pause = page.getByRole('button', { name: 'Pause sync' });
    expect(await pause.isDisabled()).toBe(true);
    await pause.click({ force: true }); // the second click of the double-click lands on it
    const trip = await roundTrip(page);
    expect(ui.line.commands.slice(before)).toEqual(['sync resume', trip]);
    await page.clock.runFor(600);
    await pause.click();
    await expect
      .poll(() => ui.line.commands.slice(before))
      .toEqual(['sync resume', trip, 'sync pause']);
    await page.clock.resume();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('sends one Sync now for a double-click', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.reportSync({ state: 'idle', connection: 'online' });
    const now = page.getByRole('button', { name: 'Sync now' });
    await expect.poll(() => now.isEnabled()).toBe(true);
    const before = ui.line.commands.length;
    // Both clicks land before the station can answer the first.
    await now.evaluate((element) => {
      const clickable = element as unknown as { click: () => void };
      clickable.click();
      clickable.click();
    });
    const trip = await roundTrip(page);
    expect(ui.line.commands.slice(before)).toEqual(['sync now', trip]);
    expect(await page.locator('.command-error').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keeps a refused Pause sync in view when Sync now goes through', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.reportSync({ state: 'idle', connection: 'online' });
    ui.line.refuseSync.set('pause', { code: 'LINE_SYNC_BUSY', message: 'The sync is busy.' });
    const alerts = page.locator('.command-error[role="alert"]');
    try {
      await page.getByRole('button', { name: 'Pause sync' }).click();
      await alerts.filter({ hasText: 'Pause sync: The sync is busy.' }).waitFor();
      const now = page.getByRole('button', { name: 'Sync now' });
      await expect.poll(() => now.isEnabled()).toBe(true);
      const before = ui.line.commands.length;
      await now.click();
      // The refusal of Pause sync stays when Sync now goes through.
      const trip = await roundTrip(page);
      expect(ui.line.commands.slice(before)).toEqual(['sync now', trip]);
      expect(await alerts.allTextContents()).toEqual([
        'Pause sync: The sync is busy. (LINE_SYNC_BUSY)Dismiss',
      ]);
    } finally {
      ui.line.refuseSync.clear();
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
