/**
 * A real line started under a supervisor (systemd sends its standard output to journald, kept on
 * disk) printed its UI address with the session token. With standard output no terminal, the
 * address is printed without its token and kept in full in <data>/serve-url, mode 0600, for as
 * long as the station runs. Real processes of the CLI (their output a pipe, as under systemd), a
 * real CA and saved line, the real API server over a WebSocket.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { serveUrlFile } from './serveUrlFile.js';
import { start } from './startCommand.js';
import { savedLineEachTest } from './testing/savedLineEachTest.js';
import { stationProcess } from './testing/stationProcess.js';

const PASSPHRASE = 'line nine passphrase';
/** A session token as the server makes them (32 random bytes, base64url). */
const TOKEN = /token=[\w-]{43}/;
const saved = savedLineEachTest(9, PASSPHRASE);

/** Resolves when a WebSocket to the API with this page's token opens; rejects if refused. */
function apiOpens(pageUrl: string): Promise<void> {
  const page = new URL(pageUrl);
  const ws = new WebSocket(`ws://${page.host}/api${page.search}`, { origin: page.origin });
  return new Promise<void>((resolve, reject) =>
    ws.once('open', resolve).once('error', reject).once('unexpected-response', reject),
  ).finally(() => ws.terminate());
}

describe('a real line whose output is no terminal', () => {
  it.each([
    ['start', '--headless'],
    ['serve', '--port', '0'],
  ])(
    '`station %s` prints no token; serve-url holds the URL, 0600, until the station stops',
    async (...command) => {
      // Locked: no passphrase asked and no device port opened, as the documented systemd unit.
      const run = stationProcess([...command, '--locked', '--data-dir', saved.folder.dataDir], {
        LINE_STATION_DATA: undefined,
      });
      saved.started.push(run);
      await run.waitFor(/^Press Ctrl-C to stop the station\.$/m, 'stdout');
      const printed = `${run.stdout()}\n${run.stderr()}`;
      expect(printed).not.toMatch(TOKEN);
      const file = serveUrlFile(saved.folder.dataDir);
      expect(printed).toContain(`the full address is in ${file}`);
      const [, port] = /open http:\/\/127\.0\.0\.1:(\d+)\/\?token=… in a browser/.exec(printed)!;

      expect(statSync(file).mode & 0o777).toBe(0o600);
      const url = (await readFile(file, 'utf8')).trim();
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?${TOKEN.source}$`));
      await apiOpens(url); // the token in the file is the one the station accepts

      expect(await run.stop()).toBe(0);
      expect(existsSync(file)).toBe(false);
    },
    60_000,
  );

  it('prints the URL as before at a terminal, and keeps no file', async () => {
    const printed: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const print = (text: string): void => {
      printed.push(text);
      const url = /open (http:\S+) in a browser/.exec(text)?.[1];
      if (url) void apiOpens(url).finally(stop);
    };
    const flags = ['--headless', '--locked', '--data-dir', saved.folder.dataDir];
    expect(await start(flags, { print, until, terminal: true })).toBe(0);
    expect(printed.join('\n')).toMatch(TOKEN);
    expect(printed.join('\n')).not.toContain('serve-url');
    expect(existsSync(serveUrlFile(saved.folder.dataDir))).toBe(false);
  }, 60_000);
});
