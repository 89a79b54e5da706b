/**
 * A real line that starts locked, in real Chromium: a CA sealed under a passphrase, a profiles
 * file, the file store and a simulated device on a real pty, served by startApiServer. The page
 * shows the unlock form and no slot; a wrong passphrase is refused in words and the line stays
 * locked; the right one, sent with Enter, starts the line, and the device reaches PASS in auto
 * mode. The passphrase never reaches a log, the page's address or the field after the answer.
 */
import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { RENDERER_DIST } from '../../scripts/rendererBuild.js';
import { startApiServer, type RunningApiServer } from '../../station/api/apiServer.js';
import type { RunningStation } from '../../station/api/stationFactory.js';
import { lockedLineStation } from '../../station/production/lockedLineStation.js';
import { makeRealLineFolder, type RealLineFolder } from '../e2e/realLineFolder.js';
import { chromiumMissing, launchChromium, openWatchedPage, saveScreenshot } from './browser.js';

const PASSPHRASE = 'line seven passphrase';
const WRONG_PASSPHRASE = 'not the line seven passphrase';
/** Bound on what the page shows after a command: the station answers in well under this. */
const SHOWN_MS = 10_000;
/** Bound on the provisioning of one simulated device after the line opens. */
const PASS_MS = 20_000;

describe.skipIf(chromiumMissing)('a locked real line in Chromium', () => {
  let browser: Browser;
  let folder: RealLineFolder | undefined;
  let simulator: Simulator | undefined;
  let station: RunningStation | undefined;
  let server: RunningApiServer | undefined;
  const logged: string[] = [];
  const log = (line: string): void => void logged.push(line);

  beforeAll(async () => {
    browser = await launchChromium();
    folder = await makeRealLineFolder(7, PASSPHRASE);
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const factory = await lockedLineStation(
      {
        dataDir: folder.dataDir,
        profilesFile: folder.profilesFile,
        ports: [simulator.devices[0]!.hostPath],
        discover: false,
        baudRate: 0,
      },
      'auto',
    );
    station = await factory({ log });
    server = await startApiServer({ line: station.line, rendererDir: RENDERER_DIST, log });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await station?.stop();
    await simulator?.stop();
    if (folder) await rm(folder.dataDir, { recursive: true, force: true });
  });

  it('shows the unlock form, refuses a wrong passphrase, and runs the line on the right one', async () => {
    const { page, problems } = await openWatchedPage(browser, server!.url);
    const panel = page.getByRole('form', { name: /Line locked/ });
    const field = panel.getByLabel('CA passphrase');
    const unlock = panel.getByRole('button', { name: 'Unlock' });
    const cards = page.getByTestId('slot-card');

    await panel.waitFor({ timeout: SHOWN_MS });
    expect(await cards.count()).toBe(0);
    expect(await page.getByText('No ports yet').count()).toBe(0);
    await expect(page.locator('.ca').textContent()).resolves.toContain('CA locked');
    await expect(page.locator('.notes').textContent()).resolves.toContain(
      'waits for the CA passphrase',
    );
    await expect(field.getAttribute('type')).resolves.toBe('password');
    await expect(field.getAttribute('autocomplete')).resolves.toBe('off');
    // No line to switch yet: the mode waits for the unlock too.
    await expect(page.getByRole('button', { name: 'Manual' }).isDisabled()).resolves.toBe(true);
    // Nothing typed, nothing to send.
    await expect(unlock.isDisabled()).resolves.toBe(true);

    await field.fill(WRONG_PASSPHRASE);
    await expect(unlock.isDisabled()).resolves.toBe(false);
    await unlock.click();
    const refusal = panel.getByRole('alert');
    await refusal.filter({ hasText: 'Wrong passphrase' }).waitFor({ timeout: SHOWN_MS });
    await expect(refusal.textContent()).resolves.toContain('CUSTODY_WRONG_PASSPHRASE');
    // Still locked, the field emptied and the button back, waiting for the next try.
    await panel.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: SHOWN_MS });
    await expect(field.inputValue()).resolves.toBe('');
    await expect(unlock.isDisabled()).resolves.toBe(true);
    expect(await cards.count()).toBe(0);
    await saveScreenshot(page, 'ui-locked-line.png');

    await field.fill(PASSPHRASE);
    // Watched from before the key press: the pending state lasts only as long as the unlock.
    const pending = panel
      .getByRole('button', { name: 'Unlocking…' })
      .and(page.locator('button:disabled'))
      .waitFor({ timeout: SHOWN_MS });
    await field.press('Enter');
    await pending;
    await panel.waitFor({ state: 'detached', timeout: SHOWN_MS });
    await cards.first().waitFor({ timeout: SHOWN_MS });
    await page
      .locator('[data-testid="slot-card"][data-state="pass"]')
      .waitFor({ timeout: PASS_MS });
    expect(await cards.count()).toBe(1);
    await expect(page.getByTestId('slot-registration-id').textContent()).resolves.toMatch(/\S/);
    await expect(page.locator('.ca').textContent()).resolves.toContain('CA ready');
    expect(await page.getByText('waits for the CA passphrase').count()).toBe(0);
    await expect(page.getByRole('button', { name: 'Manual' }).isDisabled()).resolves.toBe(false);

    // The passphrase went to the station and nowhere else.
    for (const secret of [PASSPHRASE, WRONG_PASSPHRASE]) {
      expect(page.url()).not.toContain(encodeURIComponent(secret));
      expect(logged.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(logged.join('\n')).toContain('The line was unlocked at the workstation and runs.');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
