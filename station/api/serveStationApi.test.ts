import { afterEach, describe, expect, it } from 'vitest';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import { MAX_MESSAGE_BYTES, stationMessageSchema, type MessagePipe } from './contract.js';
import { createPipePair } from './pipePair.js';
import { RecordingLine } from './recordingLine.test-double.js';
import { serveStationApi } from './serveStationApi.js';
import { StationApiError, StationClient } from './stationClient.js';

/** What the station sends, loosely typed for assertions. */
interface Answer {
  type: 'result' | 'event';
  id: number | null;
  ok: boolean;
  value: { slots: unknown[]; status: { profile: string }; outbox: { synced: number } };
  error: { code: string; message: string; detail?: string };
}

/** A raw client end: sends anything, and hands out what the station answers, in order. */
function rawClient(pipe: MessagePipe) {
  const inbox: unknown[] = [];
  const waiters: ((message: unknown) => void)[] = [];
  pipe.onMessage((data) => {
    const message = typeof data === 'string' ? (JSON.parse(data) as unknown) : data;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  return {
    send: (data: string | object) => pipe.send(data),
    next: (): Promise<Answer> =>
      inbox.length > 0
        ? Promise.resolve(inbox.shift() as Answer)
        : new Promise((resolve) => waiters.push((m) => resolve(m as Answer))),
  };
}

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

function setup() {
  const line = new RecordingLine();
  const [stationEnd, clientEnd] = createPipePair();
  const logged: string[] = [];
  stops.push(
    serveStationApi(stationEnd, {
      handlers: commandHandlers(line, { local: true }),
      events: lineEvents(line),
      log: (text) => logged.push(text),
    }),
  );
  return { line, client: rawClient(clientEnd), stationEnd, logged };
}

describe('serveStationApi', () => {
  it('answers snapshot with status, slots and outbox, as JSON text or as an object', async () => {
    const { client } = setup();
    client.send(JSON.stringify({ id: 1, type: 'command', command: 'snapshot', args: {} }));
    const text = await client.next();
    expect(text).toMatchObject({ type: 'result', id: 1, ok: true });
    expect(text.value.slots).toHaveLength(2);
    expect(text.value.status.profile).toBe('demo-sensor');
    expect(text.value.outbox.synced).toBe(2);
    client.send({ id: 2, type: 'command', command: 'snapshot', args: {} });
    expect(await client.next()).toMatchObject({ id: 2, ok: true });
  });

  it('runs provision, cancel and setMode on the line and forwards its events', async () => {
    const { client, line } = setup();
    client.send({ id: 7, type: 'command', command: 'provision', args: { slot: 2 } });
    expect(await client.next()).toEqual({ type: 'result', id: 7, ok: true, value: null });
    client.send({ id: 8, type: 'command', command: 'cancel', args: { slot: 1 } });
    expect(await client.next()).toMatchObject({ id: 8, ok: true });
    client.send({ id: 9, type: 'command', command: 'setMode', args: { mode: 'manual' } });
    // setMode emits a status event before its result is sent.
    expect(await client.next()).toMatchObject({
      type: 'event',
      event: 'status',
      payload: { mode: 'manual' },
    });
    expect(await client.next()).toMatchObject({ id: 9, ok: true });
    client.send({ id: 10, type: 'command', command: 'sync', args: { action: 'now' } });
    expect(await client.next()).toMatchObject({ id: 10, ok: true });
    expect(line.calls).toEqual(['provision 2', 'cancel 1', 'setMode manual', 'sync now']);
  });

  it.each([
    ['not JSON', '{"id": 1,', null],
    ['a number', '42', null],
    ['an array', '[1,2]', null],
    ['no type', { id: 3, command: 'snapshot', args: {} }, 3],
    ['a negative id', { id: -1, type: 'command', command: 'snapshot', args: {} }, null],
    ['an extra key', { id: 4, type: 'command', command: 'snapshot', args: {}, x: 1 }, 4],
    ['bad slot', { id: 5, type: 'command', command: 'provision', args: { slot: 0 } }, 5],
    ['slot as text', { id: 6, type: 'command', command: 'cancel', args: { slot: '1' } }, 6],
    ['bad mode', { id: 7, type: 'command', command: 'setMode', args: { mode: 'fast' } }, 7],
    ['bad sync action', { id: 9, type: 'command', command: 'sync', args: { action: 'reset' } }, 9],
    ['extra arg', { id: 8, type: 'command', command: 'snapshot', args: { all: true } }, 8],
  ])('refuses %s with API_BAD_MESSAGE and keeps serving', async (_name, message, id) => {
    const { client, line } = setup();
    client.send(message);
    const answer = await client.next();
    expect(answer).toMatchObject({ type: 'result', id, ok: false });
    expect(answer.error.code).toBe('API_BAD_MESSAGE');
    expect(typeof answer.error.message).toBe('string');
    client.send({ id: 99, type: 'command', command: 'snapshot', args: {} });
    expect(await client.next()).toMatchObject({ id: 99, ok: true });
    expect(line.calls).toEqual([]);
  });

  it.each(['reboot', 'toString', '__proto__', 'constructor'])(
    'answers the unknown command "%s" with API_UNKNOWN_COMMAND',
    async (command) => {
      const { client } = setup();
      client.send(JSON.stringify({ id: 11, type: 'command', command, args: {} }));
      const answer = await client.next();
      expect(answer).toMatchObject({ id: 11, ok: false, error: { code: 'API_UNKNOWN_COMMAND' } });
    },
  );

  it('refuses a message over the size limit, and accepts one just under it', async () => {
    const { client, line } = setup();
    const envelope = (pad: string) =>
      JSON.stringify({ id: 12, type: 'command', command: 'provision', args: { slot: 1 }, pad });
    const overhead = envelope('').length;
    client.send(envelope('x'.repeat(MAX_MESSAGE_BYTES - overhead + 1)));
    expect(await client.next()).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'API_MESSAGE_TOO_LARGE' },
    });
    // Multi-byte text counts in UTF-8 bytes, not characters.
    client.send(envelope('é'.repeat(Math.ceil((MAX_MESSAGE_BYTES - overhead) / 2) + 1)));
    expect(await client.next()).toMatchObject({ error: { code: 'API_MESSAGE_TOO_LARGE' } });
    // Exactly at the limit it is read (and then refused for the extra key, not for size).
    client.send(envelope('x'.repeat(MAX_MESSAGE_BYTES - overhead)));
    expect(await client.next()).toMatchObject({ id: 12, error: { code: 'API_BAD_MESSAGE' } });
    expect(line.calls).toEqual([]);
  });

  it('passes a coded line error through and wraps anything else', async () => {
    const { client, line } = setup();
    line.throwNext = Object.assign(new Error('Slot 2 has no device. Plug one in.'), {
      code: 'SLOT_EMPTY',
      detail: 'port /dev/pts/2 closed',
    });
    client.send({ id: 13, type: 'command', command: 'provision', args: { slot: 2 } });
    expect(await client.next()).toEqual({
      type: 'result',
      id: 13,
      ok: false,
      error: {
        code: 'SLOT_EMPTY',
        message: 'Slot 2 has no device. Plug one in.',
        detail: 'port /dev/pts/2 closed',
      },
    });
    line.throwNext = new TypeError('cannot read x of undefined');
    client.send({ id: 14, type: 'command', command: 'cancel', args: { slot: 2 } });
    const answer = await client.next();
    expect(answer.error.code).toBe('API_COMMAND_FAILED');
    expect(answer.error.detail).toBe('cannot read x of undefined');
  });

  it('never hands a client a Node code: ENOENT or ERR_… travel in the detail of API_COMMAND_FAILED', async () => {
    const { client, line } = setup();
    line.throwNext = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: 'ENOENT',
      errno: -2,
      syscall: 'open',
    });
    client.send({ id: 15, type: 'command', command: 'provision', args: { slot: 1 } });
    expect((await client.next()).error).toEqual({
      code: 'API_COMMAND_FAILED',
      message: 'The station could not carry out the command. See the station log.',
      detail: "ENOENT: no such file or directory, open '/x'",
    });
    line.throwNext = Object.assign(new TypeError('The "path" argument must be of type string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    client.send({ id: 16, type: 'command', command: 'provision', args: { slot: 1 } });
    expect((await client.next()).error).toMatchObject({
      code: 'API_COMMAND_FAILED',
      detail: 'ERR_INVALID_ARG_TYPE: The "path" argument must be of type string',
    });
    for (const code of ['ABORT_ERR', 'UND_ERR_SOCKET', 'SQLITE_IOERR_WRITE']) {
      line.throwNext = Object.assign(new Error(`${code} from below`), { code });
      client.send({ id: 17, type: 'command', command: 'provision', args: { slot: 1 } });
      expect((await client.next()).error.code).toBe('API_COMMAND_FAILED');
    }
  });

  it('logs the cause of API_COMMAND_FAILED, which its answer sends the user to the log for', async () => {
    const { client, line, logged } = setup();
    line.throwNext = Object.assign(new Error('EACCES: permission denied, open /data/x'), {
      code: 'EACCES',
    });
    client.send({ id: 18, type: 'command', command: 'cancel', args: { slot: 1 } });
    expect((await client.next()).error.code).toBe('API_COMMAND_FAILED');
    expect(logged).toEqual(['station api: cancel failed: EACCES: permission denied, open /data/x']);
    // A coded refusal is the user's to read, not the log's.
    line.throwNext = Object.assign(new Error('Slot 2 has no device.'), { code: 'SLOT_EMPTY' });
    client.send({ id: 19, type: 'command', command: 'cancel', args: { slot: 2 } });
    expect((await client.next()).error.code).toBe('SLOT_EMPTY');
    expect(logged).toHaveLength(1);
  });

  it('logs the first refusal, then one line a minute with the count, and closes at the limit within a minute', async () => {
    const line = new RecordingLine();
    const [stationEnd, clientEnd] = createPipePair();
    const lines: string[] = [];
    let clock = 0;
    stops.push(
      serveStationApi(stationEnd, {
        handlers: commandHandlers(line, { local: true }),
        events: lineEvents(line),
        log: (l) => lines.push(l),
        now: () => clock,
      }),
    );
    const client = rawClient(clientEnd);
    const closed = new Promise<void>((resolve) => clientEnd.onClose?.(resolve));
    for (let i = 0; i < 50; i++) client.send('x');
    for (let i = 0; i < 50; i++) expect((await client.next()).error.code).toBe('API_BAD_MESSAGE');
    expect(lines).toEqual(['station api: refused a message: API_BAD_MESSAGE']);
    clock = 60_000;
    client.send({ id: 1, type: 'command', command: 'nope', args: {} });
    await client.next();
    expect(lines[1]).toBe(
      'station api: refused a message: API_UNKNOWN_COMMAND (and 49 more since the last line)',
    );
    // The first minute's 50 do not count in this one: 99 refusals in it leave the pipe open.
    for (let i = 0; i < 98; i++) client.send('x');
    for (let i = 0; i < 98; i++) await client.next();
    client.send({ id: 2, type: 'command', command: 'ping', args: {} });
    expect(await client.next()).toMatchObject({ id: 2, ok: true });
    client.send('x');
    await closed;
    expect(lines.slice(2)).toEqual([
      'station api: closed a connection after 100 refused messages (99 of them not logged one by one)',
    ]);
  });

  it('stops forwarding events once the pipe closes', async () => {
    const { line, stationEnd } = setup();
    expect(line.onSlotChanged.listenerCount).toBe(1);
    const closed = new Promise<void>((resolve) => stationEnd.onClose?.(resolve));
    stationEnd.close();
    await closed;
    expect(line.onSlotChanged.listenerCount).toBe(0);
    expect(line.onStatusChanged.listenerCount).toBe(0);
  });
});

describe('serveStationApi refusal details', () => {
  /** `count` extra keys, which zod 4 names one by one in a single "Unrecognized keys" issue. */
  function extraKeys(prefix: string, count: number): Record<string, number> {
    const keys: Record<string, number> = {};
    for (let i = 0; i < count; i++) keys[`${prefix}${i}`] = 1;
    return keys;
  }

  function serve(): MessagePipe {
    const [station, ui] = createPipePair();
    const line = new RecordingLine();
    stops.push(
      serveStationApi(station, {
        handlers: commandHandlers(line, { local: true }),
        events: lineEvents(line),
      }),
    );
    return ui;
  }

  it('keeps a refusal naming thousands of unknown keys within the contract', async () => {
    const client = rawClient(serve());
    client.send(
      JSON.stringify({ id: 7, type: 'command', command: 'ping', args: extraKeys('k', 3000) }),
    );
    client.send({ id: 9, type: 'command', command: 'ping', args: {}, ...extraKeys('e', 3000) });
    for (const id of [7, 9]) {
      const answer = await client.next();
      expect(answer).toMatchObject({ id, ok: false, error: { code: 'API_BAD_MESSAGE' } });
      expect(stationMessageSchema.safeParse(answer).success).toBe(true);
    }
  });

  it('reaches a client as a rejected call, not a timeout', async () => {
    const pipe = serve();
    const errors: string[] = [];
    const client = new StationClient(pipe, {
      timeoutMs: 2_000,
      onProtocolError: (e) => errors.push(e.code),
    });
    // The client checks args itself; a UI bug or another client bypasses that, so the raw
    // message goes out under the id the client will use next.
    const sent = pipe.send.bind(pipe);
    pipe.send = (data) => {
      const message = (typeof data === 'string' ? JSON.parse(data) : data) as { args: object };
      sent({ ...message, args: { ...message.args, ...extraKeys('k', 3000) } });
    };
    const started = Date.now();
    const refusal = await client.call('ping').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(StationApiError);
    expect(refusal).toMatchObject({ code: 'API_BAD_MESSAGE' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(errors).toEqual([]);
    client.close();
  });
});
