/**
 * `recentRuns` at the API: its arguments checked at the boundary (the line is never asked with
 * bad ones), and its answer through the real headless server from a real Line over a real SQLite
 * store, checked by the client against the contract; what a line answers is cut to the limit and
 * to the contract's text bounds, and a coded refusal reaches the UI unchanged.
 */
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Line } from '../line/line.js';
import type { RunView } from '../line/lineTypes.js';
import { testLine } from '../line/testing/lineTestKit.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { startApiServer, type RunningApiServer } from './apiServer.js';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import { DEFAULT_RECENT_RUNS, MAX_TEXT_CHARS, type ApiError } from './contract.js';
import { createPipePair } from './pipePair.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { serveStationApi } from './serveStationApi.js';
import { StationClient } from './stationClient.js';
import { webSocketPipe } from './webSocketPipe.js';

const T0 = Date.UTC(2026, 0, 5, 6);
/** Ended runs in the store: more than the default list, every fifth a failure. */
const ENDED = 25;

let db: Database.Database;
let line: Line;
let server: RunningApiServer;

beforeAll(async () => {
  db = openStationDatabase(':memory:');
  const store = new ProvisioningStore(db);
  for (let i = 1; i <= ENDED; i++) {
    const runId = store.beginRun(`/dev/ttyUSB${i % 4}`, 'line7', T0 + i * 60_000, 'auto');
    const failed = i % 5 === 0;
    store.recordFailure(runId, {
      state: failed ? 'fail' : 'cancelled',
      error: failed
        ? { code: 'WIRE_TIMEOUT', message: 'The device stopped answering.', detail: `run ${i}` }
        : { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
      ...(failed && { device: { serialNumber: `SN-${i}`, model: 'LS-100' } }),
      steps: [],
      finishedAt: T0 + i * 60_000 + 5_000,
    });
  }
  // A run in progress is the newest of all, and is never listed.
  store.beginRun('/dev/ttyUSB0', 'line7', T0 + (ENDED + 1) * 60_000, 'auto');
  line = await testLine({ recorder: store });
  server = await startApiServer({ line, log: () => {} });
});
afterAll(async () => {
  await server?.close();
  await line?.stop();
  db?.close();
});

const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

async function openSocket(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, {
    origin: `http://127.0.0.1:${server.port}`,
  });
  sockets.push(ws);
  await new Promise((resolve) => ws.once('open', resolve));
  return ws;
}

/** Sends one raw message and resolves with the station's answer to it. */
async function rawAnswer(ws: WebSocket, message: unknown): Promise<Record<string, unknown>> {
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    const onMessage = (data: Buffer) => {
      const parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (parsed.type !== 'result') return;
      ws.off('message', onMessage);
      resolve(parsed);
    };
    ws.on('message', onMessage);
  });
  ws.send(JSON.stringify(message));
  return answer;
}

const ids = (runs: RunView[]) => runs.map((run) => run.runId);

describe('recentRuns through the headless server', () => {
  it('answers the newest ended runs, 20 unless asked otherwise, and checks out against the contract', async () => {
    const protocolErrors: ApiError[] = [];
    const client = new StationClient(webSocketPipe(await openSocket()), {
      onProtocolError: (e) => protocolErrors.push(e),
    });
    const { runs } = await client.call('recentRuns');
    expect(runs).toHaveLength(DEFAULT_RECENT_RUNS);
    // Run 26 is still running: the list starts below it and goes down from there.
    expect(ids(runs)).toEqual(Array.from({ length: DEFAULT_RECENT_RUNS }, (_, i) => ENDED - i));
    expect(runs[0]).toStrictEqual({
      runId: 25,
      port: '/dev/ttyUSB1',
      state: 'fail',
      startedAt: new Date(T0 + 25 * 60_000).toISOString(),
      finishedAt: new Date(T0 + 25 * 60_000 + 5_000).toISOString(),
      serialNumber: 'SN-25',
      model: 'LS-100',
      error: { code: 'WIRE_TIMEOUT', message: 'The device stopped answering.', detail: 'run 25' },
    });
    expect(runs[1]).toMatchObject({ runId: 24, state: 'cancelled' });
    expect(runs[1]).not.toHaveProperty('serialNumber');

    expect(ids((await client.call('recentRuns', { limit: 100 })).runs)).toHaveLength(ENDED);
    // Every seeded run failed or was cancelled: none of them passed.
    const failed = await client.call('recentRuns', { limit: 3, failedOnly: true });
    expect(ids(failed.runs)).toEqual([25, 24, 23]);
    expect(protocolErrors).toEqual([]);
    client.close();
  });

  it.each([
    ['a limit of 0', { limit: 0 }],
    ['a limit over 100', { limit: 101 }],
    ['a fractional limit', { limit: 2.5 }],
    ['a limit as text', { limit: '20' }],
    ['failedOnly as text', { failedOnly: 'yes' }],
    ['an unknown argument', { limit: 5, state: 'fail' }],
  ])('refuses %s with API_BAD_MESSAGE', async (_name, args) => {
    const ws = await openSocket();
    const answer = await rawAnswer(ws, { id: 5, type: 'command', command: 'recentRuns', args });
    expect(answer).toMatchObject({ id: 5, ok: false, error: { code: 'API_BAD_MESSAGE' } });
    // The connection goes on serving.
    const next = await rawAnswer(ws, { id: 6, type: 'command', command: 'recentRuns', args: {} });
    expect(next).toMatchObject({ id: 6, ok: true });
  });
});

describe('recentRuns through the handlers', () => {
  function connected() {
    const recording = new RecordingLine();
    const [stationEnd, clientEnd] = createPipePair();
    const stop = serveStationApi(stationEnd, {
      handlers: commandHandlers(recording, { local: false }),
      events: lineEvents(recording),
    });
    const protocolErrors: ApiError[] = [];
    const client = new StationClient(clientEnd, {
      timeoutMs: 2_000,
      onProtocolError: (e) => protocolErrors.push(e),
    });
    return { line: recording, client, protocolErrors, stop };
  }

  const failure = (runId: number, detail: string): RunView => ({
    runId,
    port: '/dev/pts/1',
    state: 'fail',
    startedAt: '2026-01-05T06:00:00.000Z',
    finishedAt: '2026-01-05T06:00:09.000Z',
    error: { code: 'CSR_SUBJECT_MISMATCH', message: 'Set it aside.', detail },
  });

  it('asks the line with the default limit, and cuts its answer to the limit and text bounds', async () => {
    const { line: recording, client, protocolErrors, stop } = connected();
    recording.runs = Array.from({ length: 30 }, (_, i) => failure(30 - i, 'x'.repeat(10_000)));
    const { runs } = await client.call('recentRuns', { failedOnly: true });
    expect(recording.calls).toEqual([`recentRuns ${DEFAULT_RECENT_RUNS} failed`]);
    expect(ids(runs)).toEqual(Array.from({ length: DEFAULT_RECENT_RUNS }, (_, i) => 30 - i));
    expect(runs[0]!.error!.detail).toHaveLength(MAX_TEXT_CHARS);
    expect(runs[0]!.error!.detail!.endsWith('…')).toBe(true);
    expect((await client.call('recentRuns', { limit: 4 })).runs).toHaveLength(4);
    expect(protocolErrors).toEqual([]);
    client.close();
    stop();
  });

  it("passes the line's coded refusal through to the UI", async () => {
    const { line: recording, client, stop } = connected();
    recording.throwNext = Object.assign(new Error('The station database cannot be read.'), {
      code: 'STORE_READ_FAILED',
    });
    await expect(client.call('recentRuns')).rejects.toMatchObject({
      code: 'STORE_READ_FAILED',
      message: 'The station database cannot be read.',
    });
    client.close();
    stop();
  });
});
