/**
 * Real Chromium for the UI tests (Debian's /usr/bin/chromium, driven by playwright-core), shared
 * by every suite that looks at the station UI. Each page records console errors, page errors and
 * CSP violations, so a suite can insist that the UI runs clean under the station's policy.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** The browser binary; LINE_STATION_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.LINE_STATION_CHROMIUM ?? '/usr/bin/chromium';

/** Why the UI tests cannot run here, or undefined when they can. Use with `describe.skipIf`. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM_PATH)
  ? undefined
  : `Chromium is not installed at ${CHROMIUM_PATH}; scripts/install-test-deps.sh installs it.`;

/** Where screenshots go (test-artifacts/, kept by CI). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** Headless Chromium with nothing in the background that could reach the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught page errors and CSP violations, in the order they happened. */
  problems: string[];
}

/** A new page at `url` (a factory-screen size by default) that records what went wrong. */
export async function openWatchedPage(
  browser: Browser,
  url: string,
  viewport = { width: 1600, height: 1000 },
): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
  // Chromium also logs violations, but the event names the directive reliably.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  await page.goto(url);
  return { page, problems };
}

/** Saves a full-page screenshot to test-artifacts/`name` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The card of slot `slot` on the station page. */
export function slotCard(page: Page, slot: number): Locator {
  return page.locator(`[data-testid="slot-card"][data-slot="${slot}"]`);
}

/** Whether the whole of `locator` lies inside a viewport `height` high, as the page is scrolled. */
export async function wholeOnScreen(locator: Locator, height: number): Promise<boolean> {
  const box = await locator.boundingBox();
  if (!box) return false;
  return box.y >= 0 && box.y + box.height <= height;
}
