/**
 * A full line of 64 slots in real Chromium: the grid runs far below the fold, so a technician
 * working at the bottom of it must still see, without scrolling, that the station is gone or that
 * a command was refused.
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
import { scriptedUi, serveScripted } from './scriptedUi.js';

const SLOTS = 64;
const VIEWPORT = { width: 1600, height: 1000 };

const onScreen = (locator: Locator) => wholeOnScreen(locator, VIEWPORT.height);

describe.skipIf(chromiumMissing)('station UI with 64 slots in Chromium', () => {
  const ui = scriptedUi({ slots: SLOTS });

  it('shows a refused command to a technician at the bottom of the grid', async () => {
    const { page } = await openWatchedPage(ui.browser, ui.server.url, VIEWPORT);
    const last = slotCard(page, SLOTS);
    await last.waitFor();
    ui.line.failAll();
    const retry = last.getByRole('button', { name: 'Provision again' });
    await retry.scrollIntoViewIfNeeded();

    ui.line.refuseProvision = { code: 'LINE_PORT_ABSENT', message: 'The device was unplugged.' };
    await retry.click();
    const refused = page.getByRole('alert').filter({ hasText: 'The device was unplugged.' });
    await refused.waitFor();
    ui.line.refuseProvision = undefined;
    expect(await onScreen(refused)).toBe(true);
    // Kept in view, it must also go once read.
    await refused.getByRole('button', { name: 'Dismiss' }).click();
    await refused.waitFor({ state: 'detached' });
    await page.close();
  });

  it('shows the disconnected banner to a technician at the bottom of the grid', async () => {
    const { page } = await openWatchedPage(ui.browser, ui.server.url, VIEWPORT);
    const last = slotCard(page, SLOTS);
    await last.waitFor();
    await last.scrollIntoViewIfNeeded();

    const { port, token } = ui.server;
    await ui.server.close();
    const banner = page.getByRole('alert').filter({ hasText: 'Disconnected from the station' });
    await banner.waitFor();
    expect(await onScreen(banner)).toBe(true);
    await saveScreenshot(page, 'ui-64-slots-disconnected.png');

    ui.server = await serveScripted(ui.line, { port, token });
    await banner.waitFor({ state: 'detached' });
    expect(await page.getByTestId('slot-card').count()).toBe(SLOTS);
    await page.close();
  });
});
