/**
 * `station serve --demo` as an operator runs it: a real process that prints its URL, serves the
 * UI and the API (token required), and stops cleanly on Ctrl-C (SIGINT).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { StationClient } from '../../station/api/stationClient.js';
import { webSocketPipe } from '../../station/api/webSocketPipe.js';

const CLI = join(process.cwd(), 'station', 'cli.ts');

describe('station serve --demo', () => {
  it('prints a token URL, serves the DEMO line, and stops on Ctrl-C with exit 0', async () => {
    // Node itself (not npx or the tsx wrapper), so SIGINT reaches the station directly.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'serve', '--demo', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) in a browser/.exec(
            output,
          );
          if (found?.[1]) resolve(found[1]);
        });
        void exited.then(() => reject(new Error(`station serve exited early:\n${output}`)));
      });
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

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('Stopping the station');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
