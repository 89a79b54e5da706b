import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RecordingLine } from '../api/recordingLine.test-double.js';
import { logFolder, LOG_FILE_NAME, loggedToFile } from '../production/stationLogFile.js';
import { runHeadless } from './headlessStation.js';

let dataDir: string | undefined;
afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** Resolves with the HTTP status a WebSocket upgrade was refused with. */
function refusedStatus(url: string, origin: string): Promise<number> {
  const ws = new WebSocket(url, { origin });
  // Terminating a refused upgrade reports the abort as an error: that is the expected end.
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      ws.terminate();
      resolve(response.statusCode ?? 0);
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the station let a foreign origin in'));
    });
  });
}

describe('a headless station', () => {
  it("keeps the API server's refusals in the station log, and never its URL with the token", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ls-headless-'));
    const printed: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    let announce!: (url: string) => void;
    const announced = new Promise<string>((resolve) => (announce = resolve));
    const running = runHeadless({
      createStation: loggedToFile(
        async () => ({ line: new RecordingLine(), stop: async () => {} }),
        dataDir,
      ),
      port: 0,
      print: (line) => printed.push(line),
      announce: (served) => {
        announce(served);
        return `UI: ${served}`;
      },
      until,
    });
    const url = await announced;
    const { host, searchParams } = new URL(url);
    const socketUrl = `ws://${host}/api?token=${searchParams.get('token') ?? ''}`;

    expect(await refusedStatus(socketUrl, 'http://evil.example')).toBe(403);
    stop();
    await running;

    const log = await readFile(join(logFolder(dataDir), LOG_FILE_NAME), 'utf8');
    expect(log).toContain('station serve: refused a WebSocket from origin "http://evil.example"');
    expect(printed.join('\n')).toContain('refused a WebSocket from origin');
    expect(printed.join('\n')).toContain(url);
    expect(log).not.toContain(searchParams.get('token'));
  });
});
