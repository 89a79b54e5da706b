/**
 * Slot commands on a line of 16 in real Chromium: refusals stay until read, whatever is pressed
 * next; a command whose answer was lost says it may still be carried out; a double-click sends
 * one command; and a slot's event draws that slot's card again, not the whole grid.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, openWatchedPage, slotCard } from './browser.js';
import { scriptedUi } from './scriptedUi.js';

const SLOTS = 16;

const cardIn = (page: Page, slot: number, state: string) =>
  page.locator(`[data-testid="slot-card"][data-slot="${slot}"][data-state="${state}"]`);

/**
 * Stands in for React DevTools: at each commit, counts the slot cards whose component ran. A card
 * that did not run is either the same fiber as at the last commit or a clone without the
 * PerformedWork flag (1), which React sets only on a component it called.
 */
const COUNT_CARD_RENDERS = `(() => {
  let renders = {};
  const seen = new Map();
  window.__cardRenders = () => renders;
  window.__resetCardRenders = () => { renders = {}; };
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    renderers: new Map(),
    supportsFiber: true,
    inject(renderer) { this.renderers.set(1, renderer); return 1; },
    checkDCE() {},
    onScheduleFiberRoot() {},
    onCommitFiberUnmount() {},
    onPostCommitFiberRoot() {},
    setStrictMode() {},
    onCommitFiberRoot(_id, root) {
      const stack = [[root.current, null]];
      while (stack.length > 0) {
        const [fiber, parent] = stack.pop();
        if (fiber.sibling) stack.push([fiber.sibling, parent]);
        const props = fiber.memoizedProps;
        if (fiber.type === 'article' && props && props['data-testid'] === 'slot-card') {
          const slot = props['data-slot'];
          if (seen.get(slot) !== parent && (parent.flags & 1) !== 0) {
            renders[slot] = (renders[slot] ?? 0) + 1;
          }
          seen.set(slot, parent);
        } else if (fiber.child) stack.push([fiber.child, fiber]);
      }
    },
  };
})();`;

describe.skipIf(chromiumMissing)('slot commands in Chromium (headless server)', () => {
  const ui = scriptedUi({ slots: SLOTS });

  it('keeps each refusal until it is dismissed, whatever is pressed next', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    await cardIn(page, SLOTS, 'waiting').waitFor();
    ui.line.failAll();
    const again = (slot: number) =>
      slotCard(page, slot).getByRole('button', { name: 'Provision again' });
    const alerts = page.locator('.command-error[role="alert"]');

    ui.line.refuseProvision = { code: 'LINE_PORT_ABSENT', message: 'The device was unplugged.' };
    await again(3).click();
    await alerts.filter({ hasText: 'Provision slot 3' }).waitFor();
    ui.line.refuseProvision = { code: 'LINE_SLOT_BUSY', message: 'The slot is busy.' };
    await again(4).click();
    await alerts.filter({ hasText: 'Provision slot 4' }).waitFor();

    // A command that goes through leaves both refusals in view.
    ui.line.refuseProvision = undefined;
    await again(5).click();
    await cardIn(page, 5, 'running').waitFor();
    expect(await alerts.allTextContents()).toEqual([
      'Provision slot 3: The device was unplugged. (LINE_PORT_ABSENT)Dismiss',
      'Provision slot 4: The slot is busy. (LINE_SLOT_BUSY)Dismiss',
    ]);

    // Refused again, slot 3's refusal replaces its older one and comes last.
    ui.line.refuseProvision = { code: 'LINE_SLOT_BUSY', message: 'Still busy.' };
    await again(3).click();
    await alerts.filter({ hasText: 'Still busy.' }).waitFor();
    ui.line.refuseProvision = undefined;
    expect(await alerts.count()).toBe(2);
    await expect(alerts.last().textContent()).resolves.toContain('Provision slot 3: Still busy.');

    // Each has its own Dismiss.
    await alerts
      .filter({ hasText: 'Provision slot 4' })
      .getByRole('button', { name: 'Dismiss' })
      .click();
    await alerts.filter({ hasText: 'Provision slot 4' }).waitFor({ state: 'detached' });
    expect(await alerts.count()).toBe(1);

    // The same command taken at last: its refusal no longer stands, so it goes.
    await again(3).click();
    await cardIn(page, 3, 'running').waitFor();
    await alerts.filter({ hasText: 'Provision slot 3' }).waitFor({ state: 'detached' });
    expect(await alerts.count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('says a command whose answer was lost may still be carried out', async () => {
    const page = await ui.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(10_000);
    let dropped = false;
    // Passes everything through, except that the first provision of slot 7 goes to the station
    // and its answer never comes back: the link drops while the command is in flight.
    await page.routeWebSocket(
      () => true,
      (ws) => {
        const server = ws.connectToServer();
        // The ids of slot 7's provision commands sent on this socket.
        const awaited = new Set<number>();
        ws.onMessage((message) => {
          const sent = JSON.parse(String(message)) as {
            id?: number;
            command?: string;
            args?: { slot?: number };
          };
          if (sent.command === 'provision' && sent.args?.slot === 7 && sent.id !== undefined) {
            awaited.add(sent.id);
          }
          server.send(message);
        });
        server.onMessage((message) => {
          if (!dropped && awaited.has(idOf(message))) {
            dropped = true;
            ws.close({ code: 1011 });
            return;
          }
          ws.send(message);
        });
      },
    );
    ui.line.fail(7);
    await page.goto(ui.server.url);
    await cardIn(page, 7, 'fail').waitFor();
    await slotCard(page, 7).getByRole('button', { name: 'Provision again' }).click();
    const lost = page.locator('.command-error[role="alert"]', { hasText: 'Provision slot 7' });
    await lost.waitFor();
    const text = await lost.textContent();
    expect(text).toContain('The station may still carry it out.');
    expect(text).toContain('Check slot 7 before pressing again.');
    expect(text).toContain('(API_DISCONNECTED)');
    expect(dropped).toBe(true);
    await page.close();
  });

  it('sends one command for a double-click, with no refusal', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.fail(9);
    const button = slotCard(page, 9).getByRole('button', { name: 'Provision again' });
    await button.waitFor();
    const before = ui.line.commands.length;
    // Both clicks land before the station can answer the first.
    await button.evaluate((element) => {
      const clickable = element as unknown as { click: () => void };
      clickable.click();
      clickable.click();
    });
    await cardIn(page, 9, 'running').waitFor();
    // The second click, had it been sent, would have been recorded by now: another round trip.
    await page.getByRole('button', { name: 'Manual' }).click();
    await page.locator('button[aria-pressed="true"]', { hasText: 'Manual' }).waitFor();
    expect(ui.line.commands.slice(before)).toEqual(['provision 9', 'setMode manual']);
    expect(await page.locator('.command-error').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('takes no Cancel from the second click of a double-click that started the run', async () => {
    const { page, problems } = await openWatchedPage(ui.browser, ui.server.url);
    page.setDefaultTimeout(10_000);
    ui.line.fail(10);
    await slotCard(page, 10).getByRole('button', { name: 'Provision again' }).waitFor();
    // The page's time stands still from the first click to the second, as in a double-click
    // (the station's answer and events still arrive: they are messages, not timers).
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
    const before = ui.line.commands.length;
    await slotCard(page, 10).getByRole('button', { name: 'Provision again' }).click();
    // The run started and its Cancel took the place of the button the first click pressed.
    const cancel = cardIn(page, 10, 'running').getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    expect(await cancel.isDisabled()).toBe(true);
    await cancel.click({ force: true }); // the second click of the double-click lands on it
    await expect.poll(() => ui.line.commands.slice(before)).toEqual(['provision 10']);
    // Past the double-click time, Cancel is a press of its own.
    await page.clock.runFor(600);
    await cancel.click();
    await expect.poll(() => ui.line.commands.slice(before)).toEqual(['provision 10', 'cancel 10']);
    await page.clock.resume();
    expect(problems).toEqual([]);
    await page.close();
  });

  it("draws one card again for a slot's event, not all of them", async () => {
    const page = await ui.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(10_000);
    await page.addInitScript({ content: COUNT_CARD_RENDERS });
    await page.goto(ui.server.url);
    await slotCard(page, SLOTS).waitFor();
    const renders = () => page.evaluate<Record<string, number>>('window.__cardRenders()');
    // Every card was drawn at least once: the counting works on this build of React.
    expect(Object.keys(await renders())).toHaveLength(SLOTS);

    // The page settles first (the connection going live enables every card's buttons once): a
    // quarter second with no card drawn.
    await expect
      .poll(async () => {
        await page.evaluate('window.__resetCardRenders()');
        await page.waitForTimeout(250);
        return renders();
      })
      .toEqual({});
    await page.evaluate('window.__resetCardRenders()');
    ui.line.fail(12);
    await cardIn(page, 12, 'fail').waitFor();
    expect(await renders()).toEqual({ 12: 1 });
    await page.close();
  });
});

/** The id of a result message from the station, or -1. */
function idOf(message: string | Buffer): number {
  const parsed = JSON.parse(String(message)) as { id?: unknown };
  return typeof parsed.id === 'number' ? parsed.id : -1;
}
