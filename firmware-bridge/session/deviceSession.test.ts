import { describe, expect, it } from 'vitest';
import type { Frame } from '../codec/frame.js';
import { decodeRequest, encodeErrorBody, encodeResponse, MessageType } from '../codec/messages.js';
import { DeviceErrorCode, WireError } from '../codec/wireErrors.js';
import { MockTransport } from '../transports/mockTransport.js';
import { DeviceSession } from './deviceSession.js';
import { codeOf, info, reply, setup, type ScriptedDevice } from './testing/scriptedDevice.js';

describe('DeviceSession', () => {
  it('matches responses by type and request id and ignores stale ones', async () => {
    const { session } = await setup((frame, device) => {
      device.send(
        reply(
          { ...frame, requestId: frame.requestId + 100 > 255 ? 1 : frame.requestId + 100 },
          encodeResponse('INFO', info),
        ),
      );
      device.send(reply(frame, encodeResponse('INFO', info)));
    });
    expect(await session.identify()).toEqual(info);
    expect(session.stats.staleFrames).toBe(1);
  });

  it('retries an idempotent request with the same request id, then succeeds', async () => {
    let calls = 0;
    const { session, device } = await setup((frame, d) => {
      if (++calls === 2) d.send(reply(frame, encodeResponse('GET_CONFIG', { idScope: '0ne1' })));
    });
    const config = await session.request('GET_CONFIG', { bank: 0 }, { timeoutMs: 50 });
    expect(config).toEqual({ idScope: '0ne1' });
    expect(device.frames.map((f) => f.requestId)).toEqual([1, 1]);
    expect(session.stats.retransmissions).toBe(1);
  });

  it('maps device error responses to stable codes', async () => {
    const { session } = await setup((frame, d) =>
      d.send({
        ...reply(frame, encodeErrorBody({ code: 8, detail: 'leaf key differs' })),
        error: true,
      }),
    );
    const err = await session
      .request('PUT_CERT_CHAIN', { chain: [new Uint8Array([0x30])] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err.code).toBe('DEVICE_KEY_MISMATCH');
    expect(err.detail).toBe('leaf key differs');
  });

  it('reports a response that does not match its schema as WIRE_BAD_RESPONSE', async () => {
    const { session } = await setup((frame, d) =>
      d.send(reply(frame, encodeResponse('GET_CONFIG', {}))),
    );
    expect(await codeOf(session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' }))).toBe(
      'WIRE_BAD_RESPONSE',
    );
  });

  it('sends a large request in chunks and re-sends only the chunk that was lost', async () => {
    let dropFirstSecondChunk = true;
    let next = 0;
    const { session, device } = await setup(
      (frame, d) => {
        if (frame.type === MessageType.INFO)
          return d.send(reply(frame, encodeResponse('INFO', info)));
        const chunk = frame.chunk!;
        if (chunk.offset !== 0 && dropFirstSecondChunk) {
          dropFirstSecondChunk = false;
          return; // lost on the line
        }
        if (chunk.offset === next) next += frame.data.length;
        if (next < chunk.total)
          d.send({
            type: frame.type,
            requestId: frame.requestId,
            ackNextOffset: next,
            data: new Uint8Array(0),
          });
        else d.send(reply(frame, encodeResponse('PUT_CERT_CHAIN', {})));
      },
      // The loss is found by the chunk timeout, so it must be long enough that an ACK delayed by
      // a busy machine is not taken for a loss too: at the shared 5 ms, a late ACK of chunk 0
      // had chunk 0 sent again, and the exact sequence below failed about 1 run in 10 under load.
      { chunkTimeoutMs: 4000 },
    );
    await session.identify();
    const chain = [new Uint8Array(600).fill(0x30)];
    await session.request('PUT_CERT_CHAIN', { chain });
    const chunks = device.frames.filter((f) => f.chunk).map((f) => f.chunk!.offset);
    // 256-byte frames carry 245 bytes of data: 0, 245 (lost, re-sent), 490.
    expect(chunks).toEqual([0, 245, 245, 490]);
  });

  it('reassembles a chunked response and repeats its ACK when a chunk is lost', async () => {
    const csr = new Uint8Array(700).map((_, i) => i & 0xff);
    const whole = encodeResponse('GEN_KEY_CSR', { csr });
    let lostOnce = false;
    const { session, device } = await setup((frame, d) => {
      const from = frame.ackNextOffset ?? 0;
      if (from === 300 && !lostOnce) {
        lostOnce = true;
        return;
      }
      const end = Math.min(from + 300, whole.length);
      d.send({
        ...reply(frame, whole.subarray(from, end)),
        chunk: { offset: from, total: whole.length },
      });
    });
    const res = await session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' });
    expect(Buffer.from(res.csr).equals(Buffer.from(csr))).toBe(true);
    expect(device.frames.filter((f) => f.ackNextOffset === 300)).toHaveLength(2);
  });

  // A device that answers each ACK with a chunk at another offset than the one named made the
  // host ACK forever: only timeouts counted against the retry budget.
  it.each([
    ['repeats the first chunk', (_next: number) => 0],
    ['skips ahead (a gap)', (next: number) => next + 300],
  ])(
    'gives up on a chunked response whose device %s instead of ACKing forever',
    async (_case, offsetFor) => {
      const whole = encodeResponse('GEN_KEY_CSR', { csr: new Uint8Array(1000) });
      let answers = 0;
      const { session, device } = await setup(
        (frame, d) => {
          // Bounded script: against a host that never gives up the test still ends, by timeout.
          if (++answers > 50) return;
          const from = frame.ackNextOffset === undefined ? 0 : offsetFor(frame.ackNextOffset);
          d.send({
            ...reply(frame, whole.subarray(from, Math.min(from + 300, whole.length))),
            chunk: { offset: from, total: whole.length },
          });
        },
        // A chunk wait of 1 s (scaled by the set-up's 0.05): the device answers each ACK at
        // once, and a wait that ran out on a loaded machine would send an ACK again and spend
        // the budget on it, leaving the last ACK unheard when the session gives up.
        { chunkRetries: 4, chunkTimeoutMs: 20_000 },
      );
      const err = await session
        .request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' })
        .catch((e) => e);
      expect(err).toMatchObject({
        code: 'WIRE_BAD_RESPONSE',
        detail: expect.stringContaining('expected 300'),
      });
      // The ACK of the first chunk, then one per chunk that made no progress, up to the budget.
      expect(device.frames.filter((f) => f.ackNextOffset !== undefined)).toHaveLength(1 + 4);
    },
  );

  it('fails the pending request with WIRE_DISCONNECTED on unplug, and every later one', async () => {
    const { session, host } = await setup(() => host.unplug());
    expect(await codeOf(session.identify())).toBe('WIRE_DISCONNECTED');
    expect(await codeOf(session.identify())).toBe('WIRE_DISCONNECTED');
    expect(session.isClosed).toBe(true);
  });

  it('keeps the code of a transport that names its failure (a device that takes no bytes)', async () => {
    const [host] = MockTransport.pair();
    await host.open();
    const session = await DeviceSession.open(host, { timeoutScale: 0.05 });
    host.write = () =>
      Promise.reject(new WireError('WIRE_TIMEOUT', 'mock://device: the device took no bytes'));
    await expect(session.identify()).rejects.toMatchObject({
      code: 'WIRE_TIMEOUT',
      detail: expect.stringContaining('took no bytes'),
    });
    // A link that cannot carry bytes is gone: later requests fail at once, with the same error.
    expect(session.isClosed).toBe(true);
    expect(await codeOf(session.identify())).toBe('WIRE_TIMEOUT');
  });

  it('aborts on the AbortSignal and stays usable', async () => {
    const controller = new AbortController();
    let calls = 0;
    const { session, device } = await setup((frame, d) => {
      if (++calls === 1) controller.abort('operator cancelled');
      else d.send(reply(frame, encodeResponse('INFO', info)));
    });
    expect(await codeOf(session.identify({ signal: controller.signal }))).toBe('WIRE_ABORTED');
    await device.received(1);
    expect((await session.identify()).serialNumber).toBe('SN1');
  });

  // Written anyway, a cancelled request kept the device busy, and the next run's INFO got BUSY.
  it('sends nothing for a request whose signal is already aborted', async () => {
    let executing: Frame | undefined;
    const { session, device } = await setup((frame, d) => {
      // As firmware does (PROTOCOL.md §6.2): while executing one request, any other gets BUSY.
      if (executing !== undefined && executing.requestId !== frame.requestId) {
        return d.send({
          ...reply(frame, encodeErrorBody({ code: DeviceErrorCode.BUSY })),
          error: true,
        });
      }
      if (frame.type === MessageType.INFO)
        return d.send(reply(frame, encodeResponse('INFO', info)));
      executing = frame; // key generation that outlasts this test
    });
    const controller = new AbortController();
    controller.abort('operator cancelled');
    const cancelled = session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { signal: controller.signal },
    );
    expect(await codeOf(cancelled)).toBe('WIRE_ABORTED');
    expect((await session.identify()).serialNumber).toBe('SN1');
    expect(device.frames.map((f) => f.type)).toEqual([MessageType.INFO]);
  });

  // A timed-out GEN_KEY_CSR the device is still executing: the next request is refused with BUSY.
  function busyWhileKeygen(freeAfterBusy: number) {
    let executing: Frame | undefined;
    let refused = 0;
    return (frame: Frame, d: ScriptedDevice) => {
      // A repeat of the request being executed is ignored, not refused (PROTOCOL.md §6.2).
      if (executing?.type === frame.type && executing.requestId === frame.requestId) return;
      if (executing !== undefined && refused++ === freeAfterBusy) executing = undefined;
      if (executing !== undefined) {
        return d.send({
          ...reply(frame, encodeErrorBody({ code: DeviceErrorCode.BUSY })),
          error: true,
        });
      }
      if (frame.type === MessageType.INFO)
        return d.send(reply(frame, encodeResponse('INFO', info)));
      executing = frame;
    };
  }

  it('sends a request refused with BUSY again until the device is free', async () => {
    const { session, device } = await setup(busyWhileKeygen(2));
    const keygen = session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { timeoutMs: 20 },
    );
    expect(await codeOf(keygen)).toBe('WIRE_TIMEOUT');
    expect((await session.identify()).serialNumber).toBe('SN1');
    const infos = device.frames.filter((f) => f.type === MessageType.INFO);
    expect(infos).toHaveLength(3);
    // Each one a new request: BUSY means the device executed none of them.
    expect(new Set(infos.map((f) => f.requestId)).size).toBe(3);
  });

  it('fails with DEVICE_BUSY once the device stays busy for busyWaitMs', async () => {
    const { session } = await setup(busyWhileKeygen(Infinity), { busyWaitMs: 100 });
    const keygen = session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { timeoutMs: 20 },
    );
    expect(await codeOf(keygen)).toBe('WIRE_TIMEOUT');
    const started = performance.now();
    expect(await codeOf(session.identify())).toBe('DEVICE_BUSY');
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('refuses a request larger than the device accepts before sending it', async () => {
    const { session, device } = await setup((frame, d) =>
      d.send(reply(frame, encodeResponse('INFO', { ...info, maxMessage: 300 }))),
    );
    await session.identify();
    const big = { chain: [new Uint8Array(400)] };
    expect(await codeOf(session.request('PUT_CERT_CHAIN', big))).toBe('WIRE_MESSAGE_TOO_LARGE');
    expect(device.frames).toHaveLength(1);
    expect(decodeRequest('INFO', device.frames[0]!.data)).toEqual({ hostMaxFrame: 4096 });
  });
});
