/**
 * The station UI in real Chromium against the real headless server (startApiServer), driven by
 * a scripted line: four slots run, three pass, one fails with operator text (on its card and in
 * the recent runs), and Provision on the failed slot reaches the line. The page must run without
 * console errors or CSP violations.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, openWatchedPage, saveScreenshot, slotCard } from './browser.js';
import { FAIL_ERROR } from './scriptedLine.js';
import { scriptedUi, serveScripted } from './scriptedUi.js';

const cards = (page: Page) => page.getByTestId('slot-card');
/** Waits until exactly `count` cards are in `state` (locators only: nothing evaluated in the page). */
async function cardsInState(page: Page, state: string, count: number): Promise<void> {
  const matching = page.locator(`[data-testid="slot-card"][data-state="${state}"]`);
  if (count > 0) await matching.nth(count - 1).waitFor();
  await matching.nth(count).waitFor({ state: 'detached' });
}

describe.skipIf(chromiumMissing)('station UI in Chromium (headless server)', () => {
  const ui = scriptedUi();

  it('shows DEMO, four slots running, three PASS and one FAIL, and sends Provision', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    await cardsInState(page, 'waiting', 4);
    await expect(page.getByRole('status', { name: 'DEMO line' }).textContent()).resolves.toContain(
      'DEMO',
    );
    await expect(page.locator('.profile').textContent()).resolves.toBe(ui.line.status().profile);
    await expect(page.locator('.notes').textContent()).resolves.toContain('scanning /dev');
    expect(await cards(page).count()).toBe(4);

    ui.line.startAll();
    await cardsInState(page, 'running', 4);
    await expect(slotCard(page, 2).locator('.slot-step').textContent()).resolves.toBe(
      'Issue identity',
    );
    await expect(slotCard(page, 2).locator('progress').getAttribute('value')).resolves.toBe('50');
    await expect(
      slotCard(page, 1).getByRole('button', { name: 'Cancel' }).isVisible(),
    ).resolves.toBe(true);

    ui.line.finishAll();
    await cardsInState(page, 'pass', 3);
    await cardsInState(page, 'fail', 1);
    for (const slot of [1, 2, 3]) {
      await expect(slotCard(page, slot).getByTestId('slot-state').textContent()).resolves.toContain(
        'PASS',
      );
      await expect(
        slotCard(page, slot).getByTestId('slot-registration-id').textContent(),
      ).resolves.toBe(`demo-sensor-sn-00${slot}`);
    }
    const failed = slotCard(page, 4);
    await expect(failed.getByTestId('slot-state').textContent()).resolves.toContain('FAIL');
    await expect(failed.getByTestId('slot-error').textContent()).resolves.toContain(
      FAIL_ERROR.message,
    );
    await expect(failed.locator('.slot-error-code').textContent()).resolves.toBe(FAIL_ERROR.code);
    await page.getByTestId('outbox-pending').filter({ hasText: '3' }).waitFor();
    // The recent runs ask again as the slots show the runs ended: four rows, newest first.
    const runs = page.getByTestId('recent-run');
    await runs.nth(3).waitFor();
    const states = [0, 1, 2, 3].map((i) => runs.nth(i).getAttribute('data-state'));
    await expect(Promise.all(states)).resolves.toEqual(['fail', 'pass', 'pass', 'pass']);
    const failedRun = runs.first();
    await expect(failedRun.getByTestId('recent-run-result').textContent()).resolves.toContain(
      'FAIL',
    );
    await expect(failedRun.getByTestId('recent-run-error').textContent()).resolves.toContain(
      FAIL_ERROR.message,
    );
    await expect(failedRun.locator('.recent-run-error-code').textContent()).resolves.toBe(
      FAIL_ERROR.code,
    );
    await expect(failedRun.getByTestId('recent-run-registration-id').textContent()).resolves.toBe(
      'demo-sensor-sn-004',
    );
    await saveScreenshot(page, 'ui-slots.png');

    // Failures only: the one that failed; and back.
    const failuresOnly = page.getByRole('checkbox', { name: 'Failures only' });
    await failuresOnly.check();
    await page.locator('[data-testid="recent-run"][data-state="pass"]').first().waitFor({
      state: 'detached',
    });
    await runs.first().waitFor();
    expect(await runs.count()).toBe(1);
    await failuresOnly.uncheck();
    await runs.nth(3).waitFor();

    // A passed slot offers only the next device (its port may never go away); the failed one a
    // retry.
    const passButtons = slotCard(page, 1).getByRole('button');
    expect(await passButtons.count()).toBe(1);
    await expect(passButtons.textContent()).resolves.toBe('Provision next');
    const command = ui.line.nextCommand();
    await failed.getByRole('button', { name: /Provision/ }).click();
    expect(await command).toBe('provision 4');
    await cardsInState(page, 'running', 1);

    const mode = ui.line.nextCommand();
    await page.getByRole('button', { name: 'Manual' }).click();
    expect(await mode).toBe('setMode manual');
    await page.locator('button[aria-pressed="true"]', { hasText: 'Manual' }).waitFor();

    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the disconnected banner and recovers when the station comes back', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    await cards(page).first().waitFor();
    const banner = page.getByRole('alert').filter({ hasText: 'Disconnected from the station' });
    expect(await banner.count()).toBe(0);

    const { port, token } = ui.server;
    await ui.server.close();
    await banner.waitFor();
    // Same port and token, as a restarted station that kept its session would have.
    ui.server = await serveScripted(ui.line, { port, token });
    await banner.waitFor({ state: 'detached' });
    expect(await cards(page).count()).toBe(4);
    // The browser logs the failed reconnect attempts, and any load the outage refused (the page's
    // icon, if Chromium asks for it just as the server goes); nothing else may go wrong.
    const outage = (p: string) =>
      p.includes('WebSocket connection') ||
      p === 'console: Failed to load resource: net::ERR_CONNECTION_REFUSED';
    expect(problems.filter((p) => !outage(p))).toEqual([]);
    await page.close();
  });

  it('says the link is stale when the station comes back with a new token', async () => {
    const { page } = await openWatchedPage(ui.browser, ui.server.url);
    await cards(page).first().waitFor();
    const { port } = ui.server;
    await ui.server.close();
    // A restarted station makes a new token, so this page's link no longer opens the API.
    ui.server = await serveScripted(ui.line, { port });
    await page.getByRole('alert').filter({ hasText: 'Open the new link it printed' }).waitFor();
    await page.close();
  });

  it('says to open the printed link when the page has no token', async () => {
    const { page } = await openWatchedPage(ui.browser, ui.server.url.replace(/\?token=.*$/, ''));
    await page.getByRole('alert').filter({ hasText: 'not opened from the station link' }).waitFor();
    expect(await cards(page).count()).toBe(0);
    await page.close();
  });
});
