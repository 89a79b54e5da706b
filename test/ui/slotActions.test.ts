/**
 * What a slot card offers at the ends of a run, in real Chromium against the headless server and
 * a scripted line: a PASS card offers the next device (a port that never goes away gives no
 * re-plug to start it), in auto and in manual mode; a run past its COMMIT offers no Cancel; a
 * cancelled run says why. The header says plainly when the CA has expired.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, openWatchedPage, saveScreenshot, slotCard } from './browser.js';
import { CANCEL_ERROR } from './scriptedLine.js';
import { scriptedUi } from './scriptedUi.js';

const cardIn = (page: Page, slot: number, state: string) =>
  page.locator(`[data-testid="slot-card"][data-slot="${slot}"][data-state="${state}"]`);

describe.skipIf(chromiumMissing)('slot card actions in Chromium (headless server)', () => {
  const ui = scriptedUi();

  it('offers Provision next on PASS, no Cancel at commit, the cancel reason, CA expired', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    // Within the test's own 30 s, so a missing element is named rather than a bare timeout.
    page.setDefaultTimeout(10_000);
    await cardIn(page, 4, 'waiting').waitFor();
    ui.line.startAll();
    ui.line.finishAll();
    await cardIn(page, 1, 'pass').waitFor();

    // Auto mode: the PASS card offers the next device, and it sends the provision command.
    const next = slotCard(page, 1).getByRole('button', { name: 'Provision next' });
    await next.waitFor();
    let command = ui.line.nextCommand();
    await next.click();
    expect(await command).toBe('provision 1');
    await cardIn(page, 1, 'running').waitFor();

    // Manual mode too.
    command = ui.line.nextCommand();
    await page.getByRole('button', { name: 'Manual' }).click();
    expect(await command).toBe('setMode manual');
    await page.locator('button[aria-pressed="true"]', { hasText: 'Manual' }).waitFor();
    await slotCard(page, 2).getByRole('button', { name: 'Provision next' }).waitFor();

    // Slot 1's run sends its COMMIT: no Cancel any more, a word on why instead.
    await slotCard(page, 1).getByRole('button', { name: 'Cancel' }).waitFor();
    ui.line.reachCommit(1);
    await slotCard(page, 1).getByText('Finishing: cannot be cancelled now').waitFor();
    expect(await slotCard(page, 1).getByRole('button').count()).toBe(0);

    // Slot 4 is retried, then cancelled from its card: the card says why it stopped.
    await slotCard(page, 4).getByRole('button', { name: 'Provision again' }).click();
    await cardIn(page, 4, 'running').waitFor();
    command = ui.line.nextCommand();
    await slotCard(page, 4).getByRole('button', { name: 'Cancel' }).click();
    expect(await command).toBe('cancel 4');
    await cardIn(page, 4, 'cancelled').waitFor();
    const reason = slotCard(page, 4).getByTestId('slot-error');
    await expect(reason.textContent()).resolves.toContain(CANCEL_ERROR.message);
    await expect(reason.locator('.slot-error-code').textContent()).resolves.toBe(CANCEL_ERROR.code);

    // The CA expires while the line runs: a warning, never "CA ready · … · -1 days left".
    ui.line.reportCa({ locked: false, subject: 'CN=Line Station DEMO Issuing CA', daysLeft: -1 });
    const ca = page.locator('.ca.ca-warn', { hasText: 'CA expired: import a renewed CA' });
    await ca.waitFor();
    await expect(page.locator('.ca').textContent()).resolves.not.toContain('days left');

    await saveScreenshot(page, 'ui-slot-actions.png');
    expect(problems).toEqual([]);
    await page.close();
  });
});
