/**
 * A full line of 64 slots in real Chromium: a FAIL card far below the fold is easy to miss, so
 * the page lists the slots that need a technician now, near its top. A slot's button there takes
 * the technician to its card: scrolled into view and focused. The list follows the slots live
 * and goes once none needs attention.
 */
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  openWatchedPage,
  saveScreenshot,
  slotCard,
  wholeOnScreen,
} from './browser.js';
import { scriptedUi } from './scriptedUi.js';

const SLOTS = 64;
const VIEWPORT = { width: 1600, height: 1000 };
const HELD = { code: 'RUN_REPEATED_FAILURE', message: 'Held: this board failed 3 times in a row.' };

const onScreen = (locator: Locator) => wholeOnScreen(locator, VIEWPORT.height);

const focused = (locator: Locator) =>
  locator.evaluate((el) => el === el.ownerDocument.activeElement);

describe.skipIf(chromiumMissing)('the slots that need attention, on a line of 64', () => {
  const ui = scriptedUi({ slots: SLOTS });

  it('takes the technician to a failed card below the fold, and goes when none is left', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url, VIEWPORT);
    await slotCard(page, SLOTS).waitFor();
    const strip = page.getByRole('region', { name: 'Slots that need attention' });
    expect(await strip.count()).toBe(0);

    // A held board far down, a plain failure near the top, and a cancel, which is not listed.
    ui.line.fail(60, HELD);
    ui.line.fail(12);
    ui.line.cancel(5);
    const buttons = strip.getByRole('button');
    await strip.filter({ hasText: '2 slots need attention:' }).waitFor();
    expect(await buttons.allTextContents()).toEqual(['Slot 12', 'Slot 60']);
    expect(await onScreen(strip)).toBe(true);

    const target = slotCard(page, 60);
    expect(await onScreen(target)).toBe(false);
    await strip.getByRole('button', { name: 'Slot 60' }).click();
    await expect.poll(() => onScreen(target)).toBe(true);
    expect(await focused(target)).toBe(true);
    expect(await target.getAttribute('data-state')).toBe('fail');
    await saveScreenshot(page, 'ui-attention.png');

    // Retried from its card: it leaves the list, live.
    await target.getByRole('button', { name: 'Provision again' }).click();
    await strip.filter({ hasText: '1 slot needs attention:' }).waitFor();
    expect(await buttons.allTextContents()).toEqual(['Slot 12']);

    ui.line.provision(12);
    await strip.waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
    await page.close();
  });
});
