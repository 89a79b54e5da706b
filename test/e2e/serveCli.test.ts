/**
 * `station serve --demo` as an operator runs it: a real process that prints its URL, serves the
 * UI and the API (token required), and stops cleanly on Ctrl-C (SIGINT).
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { StationClient } from '../../station/api/stationClient.js';
import { webSocketPipe } from '../../station/api/webSocketPipe.js';
import { serveDemo } from './serveDemoProcess.js';

describe('station serve --demo', () => {
  it('prints a token URL, serves the DEMO line, and stops on Ctrl-C with exit 0', async () => {
    const served = await serveDemo();
    try {
      const url = served.url;
      const page = new URL(url);
      expect((await fetch(url)).headers.get('content-security-policy')).toContain(
        "script-src 'self'",
      );

      const ws = new WebSocket(`ws://${page.host}/api${page.search}`, { origin: page.origin });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const client = new StationClient(webSocketPipe(ws));
      const snapshot = await client.call('snapshot');
      expect(snapshot.status.demo).toBe(true);
      expect(snapshot.slots.length).toBeGreaterThan(0);
      client.close();

      expect(await served.stop()).toBe(0);
      expect(served.output()).toContain('Stopping the station');
    } finally {
      served.kill();
    }
  });
});
