/**
 * One suite's Chromium and headless server on a scripted line: started before its tests, closed
 * after them. A test that restarts the server (a station that went and came back) assigns the
 * new one to `server`, and that one is closed at the end.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { RENDERER_DIST } from '../../scripts/rendererBuild.js';
import { startApiServer, type RunningApiServer } from '../../station/api/apiServer.js';
import { launchChromium } from './browser.js';
import { ScriptedLine } from './scriptedLine.js';

export interface ScriptedUi {
  browser: Browser;
  line: ScriptedLine;
  server: RunningApiServer;
}

/**
 * Registers the suite's beforeAll and afterAll; call it inside `describe`. `prepare` readies the
 * line before the server first serves it (the day's counts, slots already running).
 */
export function scriptedUi(
  options: { slots?: number; prepare?: (line: ScriptedLine) => void } = {},
): ScriptedUi {
  const ui = {} as ScriptedUi;
  beforeAll(async () => {
    ui.browser = await launchChromium();
    ui.line = new ScriptedLine(options.slots);
    options.prepare?.(ui.line);
    ui.server = await serveScripted(ui.line);
  });
  afterAll(async () => {
    await ui.browser?.close();
    await ui.server?.close();
  });
  return ui;
}

/** The headless server on `line`, quiet; `port` and `token` as a restarted station keeps them. */
export function serveScripted(
  line: ScriptedLine,
  again: { port?: number; token?: string } = {},
): Promise<RunningApiServer> {
  return startApiServer({ line, ...again, rendererDir: RENDERER_DIST, log: () => {} });
}
