/**
 * The station as `npm start` runs it: the BUILT dist/station/cli.js under plain Node, with no
 * tsx loaded, serving the DEMO line. A module the bundle fails to carry, or a file it looks for
 * in the wrong folder (the built UI, the app folder), fails here and not on a technician's line.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { socatOnPath } from '../../firmware-bridge/simulator/ptyPair.js';
import { buildStation } from '../../scripts/buildStation.js';
import type { SlotViewPayload } from '../../station/api/contract.js';
import { StationClient } from '../../station/api/stationClient.js';
import { webSocketPipe } from '../../station/api/webSocketPipe.js';
import { serveDemo } from '../e2e/serveDemoProcess.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let built: string;

beforeAll(async () => {
  // Directly under dist/, as dist/station is, and never the developer's own build; a fresh
  // clone has no dist/ yet.
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  built = mkdtempSync(join(repoRoot, 'dist', 'station-test-'));
  await buildStation(built);
}, 60_000);

afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('the built station', () => {
  it('is plain JavaScript: no module of it loads tsx or a TypeScript source', () => {
    const files = readdirSync(built).filter((f) => f.endsWith('.js'));
    expect(files).toContain('cli.js');
    for (const file of files) {
      const source = readFileSync(join(built, file), 'utf8');
      expect(source).not.toMatch(/\bfrom\s*["']tsx/);
      expect(source).not.toMatch(/(?:from\s*|import\(\s*)["'][^"']+\.ts["']/);
    }
  });

  it.skipIf(!socatOnPath() || process.platform !== 'linux')(
    'serves the DEMO line under plain Node until every slot passes, and stops on Ctrl-C',
    async () => {
      const served = await serveDemo([join(built, 'cli.js')]);
      try {
        const page = new URL(served.url);
        const response = await fetch(served.url);
        expect(response.status).toBe(200);
        // The built UI, found from the bundle's own folder.
        expect(await response.text()).toContain('<div id="root">');

        const ws = new WebSocket(`ws://${page.host}/api${page.search}`, { origin: page.origin });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const client = new StationClient(webSocketPipe(ws));
        const slots = new Map<number, SlotViewPayload['state']>();
        const allPassed = new Promise<void>((resolve) => {
          const update = (slot: SlotViewPayload): void => {
            slots.set(slot.slot, slot.state);
            if (slots.size === 8 && [...slots.values()].every((s) => s === 'pass')) resolve();
          };
          client.on('slot', update);
          void client.call('snapshot').then((snapshot) => {
            expect(snapshot.status.demo).toBe(true);
            for (const slot of snapshot.slots) if (!slots.has(slot.slot)) update(slot);
          });
        });
        await allPassed;
        client.close();

        expect(await served.stop()).toBe(0);
        expect(served.output()).toContain('Stopping the station');
      } finally {
        served.kill();
      }
    },
    60_000,
  );
});
