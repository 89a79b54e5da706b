import { describe, expect, it } from 'vitest';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import type { ApiError } from './contract.js';
import { createPipePair } from './pipePair.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { serveStationApi } from './serveStationApi.js';
import { StationApiError, StationClient } from './stationClient.js';

function connected(options: { timeoutMs?: number } = {}) {
  const line = new RecordingLine();
  const [stationEnd, clientEnd] = createPipePair();
  serveStationApi(stationEnd, {
    handlers: commandHandlers(line, { local: true }),
    events: lineEvents(line),
  });
  const protocolErrors: ApiError[] = [];
  const client = new StationClient(clientEnd, {
    ...options,
    onProtocolError: (e) => protocolErrors.push(e),
  });
  return { line, client, stationEnd, protocolErrors };
}

async function rejection(promise: Promise<unknown>): Promise<StationApiError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(StationApiError);
  return error as StationApiError;
}

describe('StationClient', () => {
  it('calls commands with typed results', async () => {
    const { client, line } = connected();
    const snapshot = await client.call('snapshot');
    expect(snapshot.slots.map((s) => s.slot)).toEqual([1, 2]);
    expect(snapshot.status.demo).toBe(true);
    expect(await client.call('provision', { slot: 1 })).toBeNull();
    expect(line.calls).toEqual(['provision 1']);
  });

  it('delivers events to listeners until their disposer is called', async () => {
    const { client, line } = connected();
    const seen: string[] = [];
    const dispose = client.on('status', (status) => seen.push(status.mode));
    await client.call('setMode', { mode: 'manual' });
    dispose();
    await client.call('setMode', { mode: 'auto' });
    expect(seen).toEqual(['manual']);
    expect(line.calls).toEqual(['setMode manual', 'setMode auto']);
  });

  it('rejects with the station error code and operator text', async () => {
    const { client, line } = connected();
    line.throwNext = Object.assign(new Error('Slot 9 does not exist.'), { code: 'SLOT_UNKNOWN' });
    const error = await rejection(client.call('cancel', { slot: 9 }));
    expect(error.code).toBe('SLOT_UNKNOWN');
    expect(error.message).toBe('Slot 9 does not exist.');
  });

  it('refuses bad arguments before sending them', async () => {
    const { client, line } = connected();
    // @ts-expect-error -- the contract types refuse this at compile time too.
    const error = await rejection(client.call('provision', { slot: 'one' }));
    expect(error.code).toBe('API_BAD_MESSAGE');
    expect(line.calls).toEqual([]);
  });

  it('rejects pending commands with API_DISCONNECTED when the pipe closes', async () => {
    const [_stationEnd, clientEnd] = createPipePair();
    const client = new StationClient(clientEnd);
    const disconnected = new Promise<void>((resolve) => client.onDisconnect(resolve));
    const pending = client.call('snapshot');
    clientEnd.close();
    expect((await rejection(pending)).code).toBe('API_DISCONNECTED');
    await disconnected;
    expect(client.closed).toBe(true);
    expect((await rejection(client.call('snapshot'))).code).toBe('API_DISCONNECTED');
  });

  it('times out a command nobody answers', async () => {
    const [_stationEnd, clientEnd] = createPipePair();
    const client = new StationClient(clientEnd, { timeoutMs: 20 });
    expect((await rejection(client.call('snapshot'))).code).toBe('API_TIMEOUT');
  });

  it('reports station messages that break the contract and ignores them', async () => {
    const line = new RecordingLine();
    const [stationEnd, clientEnd] = createPipePair();
    const errors: ApiError[] = [];
    const client = new StationClient(clientEnd, { onProtocolError: (e) => errors.push(e) });
    const slots: unknown[] = [];
    client.on('slot', (s) => slots.push(s));
    // A slot event with a progress outside 0..1 and a result for a command never sent.
    stationEnd.send({ type: 'event', event: 'slot', payload: { ...line.slots()[0], progress: 2 } });
    stationEnd.send({ type: 'result', id: null, ok: false, error: { code: 'E', message: 'm' } });
    stationEnd.send('not json');
    // A command round trip after them proves the three were processed first.
    serveStationApi(stationEnd, {
      handlers: commandHandlers(line, { local: true }),
      events: lineEvents(line),
    });
    await client.call('snapshot');
    expect(slots).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['API_BAD_MESSAGE', 'E', 'API_BAD_MESSAGE']);
  });

  it('refuses a result that does not match the command result schema', async () => {
    const [stationEnd, clientEnd] = createPipePair();
    const client = new StationClient(clientEnd);
    stationEnd.onMessage((data) => {
      const { id } = data as { id: number };
      stationEnd.send({ type: 'result', id, ok: true, value: { slots: 'none' } });
    });
    const error = await rejection(client.call('snapshot'));
    expect(error.code).toBe('API_BAD_MESSAGE');
  });
});

describe('StationClient on a pipe that outlives it (Electron bridge)', () => {
  it('is not settled by a late answer meant for an earlier client on the same pipe', async () => {
    const line = new RecordingLine();
    const [stationEnd, port] = createPipePair();
    const handlers = commandHandlers(line, { local: true });
    // The station is slow (a stalled event loop) and then refuses `cancel`.
    let release!: () => void;
    const stall = new Promise<void>((resolve) => (release = resolve));
    const provision = handlers.provision;
    handlers.provision = async (args) => {
      await stall;
      return provision(args);
    };
    handlers.cancel = async () => {
      await stall;
      throw Object.assign(new Error('committing'), {
        code: 'LINE_RUN_COMMITTING',
        message: 'The run is committing; it cannot be cancelled.',
      });
    };
    serveStationApi(stationEnd, { handlers, events: lineEvents(line) });
    // renderer/src/stationPipe.ts: one bridge for the window's life; close() does nothing.
    const bridgePipe = () => ({
      send: (data: string | object) => port.send(data),
      onMessage: (listener: (data: unknown) => void) => port.onMessage(listener),
      close: () => {},
    });

    const first = new StationClient(bridgePipe(), { timeoutMs: 20, onProtocolError: () => {} });
    expect((await rejection(first.call('cancel', { slot: 1 }))).code).toBe('API_TIMEOUT');
    first.close(); // useStation gives up on it and builds a new client on the same bridge
    const second = new StationClient(bridgePipe(), { onProtocolError: () => {} });
    const provisioned = second.call('provision', { slot: 2 });
    release();
    await expect(provisioned).resolves.toBeNull();
    expect(line.calls).toEqual(['provision 2']);
    second.close();
  });
});
