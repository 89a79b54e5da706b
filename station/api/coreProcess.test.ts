/**
 * The core process entry under plain Node: Node's MessageChannel stands in for Electron's
 * MessagePortMain (same messages, wrapped as `{ data }` events), and the test plays main.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import type { SecretRequest } from './coreProtocol.js';
import { runCore } from './coreProcess.js';
import { RecordingLine } from './recordingLine.test-double.js';
import type { StationContext, StationFactory } from './stationFactory.js';
import { StationClient } from './stationClient.js';
import { electronLike, FakeMain, rendererPipe } from './testing/fakeElectronMain.js';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

function startCore(createStation: StationFactory) {
  const main = new FakeMain();
  const logs: string[] = [];
  runCore({ parentPort: main.parentPort, createStation, log: (l) => logs.push(l) });
  return { main, logs };
}

function lineFactory() {
  const line = new RecordingLine();
  const state = { stopped: false, context: undefined as StationContext | undefined };
  const factory: StationFactory = async (context) => {
    state.context = context;
    return { line, stop: async () => void (state.stopped = true) };
  };
  return { line, state, factory };
}

describe('runCore', () => {
  it('starts the station, then serves the API on a window port main hands over', async () => {
    const { line, factory } = lineFactory();
    const { main } = startCore(factory);
    main.send({ type: 'start', secretBackend: null });
    expect(await main.next()).toEqual({ type: 'ready' });

    const channel = new MessageChannel();
    channels.push(channel);
    main.send({ type: 'connect-ui' }, [electronLike(channel.port1)]);
    const client = new StationClient(rendererPipe(channel.port2));
    expect((await client.call('snapshot')).slots).toHaveLength(2);
    await client.call('provision', { slot: 1 });
    expect(line.calls).toEqual(['provision 1']);
  });

  it('lends the OS key store to the station through main (wrap and unwrap a data key)', async () => {
    const { state, factory } = lineFactory();
    const { main } = startCore(factory);
    main.send({ type: 'start', secretBackend: 'gnome_libsecret' });
    await main.next();
    const wrapper = state.context?.osKeyWrapper as KeyWrapper;
    expect(wrapper.kind).toBe('os-keystore');

    // main's side: a reversible stand-in for safeStorage.
    const answer = (request: SecretRequest): void => {
      const value =
        request.op === 'isAvailable'
          ? 'true'
          : request.op === 'encrypt'
            ? Buffer.from(`sealed:${request.data}`).toString('base64')
            : Buffer.from(request.data ?? '', 'base64')
                .toString()
                .replace(/^sealed:/, '');
      main.send({ type: 'secret-result', id: request.id, ok: true, value });
    };
    const dataKey = new Uint8Array(32).map((_, i) => i);
    const wrapping = wrapper.wrap(dataKey);
    const ops: string[] = [];
    for (let i = 0; i < 2; i++) {
      const request = (await main.next()) as SecretRequest;
      ops.push(request.op);
      answer(request);
    }
    const wrapped = await wrapping;
    const unwrapping = wrapper.unwrap(wrapped);
    for (let i = 0; i < 2; i++) {
      const request = (await main.next()) as SecretRequest;
      ops.push(request.op);
      answer(request);
    }
    expect(Buffer.from(await unwrapping)).toEqual(Buffer.from(dataKey));
    expect(ops).toEqual(['isAvailable', 'encrypt', 'isAvailable', 'decrypt']);
  });

  it('refuses the key store when main reports the unprotected basic_text backend', async () => {
    const { state, factory } = lineFactory();
    const { main } = startCore(factory);
    main.send({ type: 'start', secretBackend: 'basic_text' });
    await main.next();
    const wrapping = (state.context?.osKeyWrapper as KeyWrapper).wrap(new Uint8Array(32));
    const request = (await main.next()) as SecretRequest;
    main.send({ type: 'secret-result', id: request.id, ok: true, value: 'true' });
    await expect(wrapping).rejects.toMatchObject({ code: 'CUSTODY_UNAVAILABLE' });
  });

  it('reports a station that cannot start as fatal, with its code', async () => {
    const { main } = startCore(async () => {
      throw Object.assign(new Error('No product profile is configured.'), {
        code: 'STATION_NOT_CONFIGURED',
      });
    });
    main.send({ type: 'start', secretBackend: null });
    expect(await main.next()).toEqual({
      type: 'fatal',
      error: { code: 'STATION_NOT_CONFIGURED', message: 'No product profile is configured.' },
    });
  });

  it('logs a start failure without a code and shows its detail as fatal', async () => {
    const { main, logs } = startCore(async () => {
      throw new SyntaxError('line.json: Unexpected token');
    });
    main.send({ type: 'start', secretBackend: null });
    const fatal = (await main.next()) as {
      type: string;
      error: { code: string; message: string; detail?: string };
    };
    expect(fatal.type).toBe('fatal');
    expect(fatal.error.code).toBe('STATION_START_FAILED');
    expect(fatal.error.message).toMatch(/could not start/);
    expect(fatal.error.detail).toBe('SyntaxError: line.json: Unexpected token');
    expect(logs.join('\n')).toContain('SyntaxError: line.json: Unexpected token');
  });

  it("gives Node's own errors (ENOENT, ERR_DLOPEN_FAILED) start wording, their code in the detail", async () => {
    for (const [code, text] of [
      ['ENOENT', "ENOENT: no such file or directory, open '/srv/line/profiles.json'"],
      ['ERR_DLOPEN_FAILED', 'better_sqlite3.node was compiled against another Node.js version'],
    ]) {
      const { main } = startCore(async () => {
        throw Object.assign(new Error(text), { code });
      });
      main.send({ type: 'start', secretBackend: null });
      expect(await main.next()).toEqual({
        type: 'fatal',
        error: {
          code: 'STATION_START_FAILED',
          message: 'The station could not start. See the station log.',
          detail: `Error ${code}: ${text}`,
        },
      });
    }
  });

  it('stops the station when main says stop, and ignores messages it cannot read', async () => {
    const { state, factory } = lineFactory();
    const { main, logs } = startCore(factory);
    main.send({ type: 'start', secretBackend: null });
    await main.next();
    main.send({ type: 'reboot' });
    main.send('garbage');
    expect(logs).toHaveLength(2);
    main.send({ type: 'stop' });
    expect(await main.next()).toEqual({ type: 'stopped' });
    expect(state.stopped).toBe(true);
  });
});
