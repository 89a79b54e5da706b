/**
 * The headless station listens before its line starts (headlessStation.ts): a server that holds
 * its address but serves no line yet refuses the API socket, then serves the line it is given.
 * Real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { listenApiServer, type ListeningApiServer } from './apiServer.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { StationClient } from './stationClient.js';
import { webSocketPipe } from './webSocketPipe.js';

let server: ListeningApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The HTTP status an upgrade was refused with, or 101 once the socket opened. */
function upgrade(ws: WebSocket): Promise<number> {
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_request, response) => {
      ws.terminate();
      resolve(response.statusCode ?? 0);
    });
    ws.once('open', () => resolve(101));
  });
}

describe('listenApiServer', () => {
  it('refuses the API until a line is served, then serves it', async () => {
    const listening = await listenApiServer({ log: () => undefined });
    server = listening;
    const page = new URL(listening.url);
    const socket = () =>
      new WebSocket(`ws://${page.host}/api${page.search}`, { origin: page.origin });

    expect(await upgrade(socket())).toBe(503);

    listening.serve(new RecordingLine());
    const ws = socket();
    expect(await upgrade(ws)).toBe(101);
    const client = new StationClient(webSocketPipe(ws));
    expect((await client.call('snapshot')).status).toBeDefined();
    client.close();
    expect(() => listening.serve(new RecordingLine())).toThrow(/served already/);
  });

  it('rejects with the system code when the port is taken', async () => {
    const first = await listenApiServer({ log: () => undefined });
    server = first;
    await expect(listenApiServer({ port: first.port, log: () => undefined })).rejects.toMatchObject(
      { code: 'EADDRINUSE' },
    );
  });
});
