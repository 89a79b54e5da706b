/**
 * A session on a line that garbles answers. A damaged answer is asked for again at once with its
 * request id (the device replays it, PROTOCOL.md §6.2), and a request that met only damage fails
 * as WIRE_LINK_NOISY, not as the silence of WIRE_TIMEOUT. Which damage makes the session send
 * again, and what it sends: damage that arrived before a request was sent (boot noise, a tail
 * after the last answer) re-sends nothing; a garbled ACK of a chunked request costs that chunk
 * once more; a garbled answer after the last chunk costs the last chunk only; a garbled chunk of
 * a chunked response costs a repeated ACK, never the request.
 */
import { describe, expect, it, vi } from 'vitest';
import { encodeFrame, type Frame } from '../codec/frame.js';
import { damagedFrames } from '../codec/frameDecoder.js';
import { encodeResponse, MessageType } from '../codec/messages.js';
import type { WireError } from '../codec/wireErrors.js';
import { codeOf, info, reply, setup, type ScriptedDevice } from './testing/scriptedDevice.js';

/** The bytes of a frame from the device, with one bit flipped so its CRC fails at the station. */
function garbled(frame: Omit<Frame, 'fromDevice' | 'error'>): Uint8Array {
  const bytes = encodeFrame({ ...frame, fromDevice: true, error: false });
  const at = bytes.findIndex((b, i) => i > 3 && b !== 0 && b !== 1);
  bytes[at] = bytes[at]! ^ 1;
  return bytes;
}

/** Boot noise: bytes that end in a delimiter but are no frame. */
const NOISE = new Uint8Array([0x41, 0x42, 0x43, 0x00]);

const config = (frame: Frame) => reply(frame, encodeResponse('GET_CONFIG', { idScope: '0ne1' }));

/** The ACK a device sends for the chunks of a request it holds up to `next`. */
function ack(frame: Frame, next: number) {
  return {
    type: frame.type,
    requestId: frame.requestId,
    ackNextOffset: next,
    data: new Uint8Array(0),
  };
}

describe('DeviceSession: damage and re-sends', () => {
  it('re-sends nothing for boot noise that arrived before the request', async () => {
    const { session, device } = await setup((frame, d) => d.send(config(frame)));
    await device.end.write(NOISE);
    await vi.waitFor(() => expect(damagedFrames(session.stats.decoder)).toBe(1));

    const answer = await session.request('GET_CONFIG', { bank: 0 }, { retries: 2 });
    expect(answer).toEqual({ idScope: '0ne1' });
    expect(device.frames).toHaveLength(1);
    expect(session.stats.retransmissions).toBe(0);
  });

  it('re-sends nothing for noise that trailed the last answer while that request was current', async () => {
    // The first answer and the noise after it arrive in one read: the noise is counted while
    // the first request is still the current one, after its answer was handed over.
    const { session, device } = await setup((frame, d) => {
      if (d.frames.length > 1) return d.send(config(frame));
      const answer = encodeFrame({ ...config(frame), fromDevice: true, error: false });
      void d.end.write(Buffer.concat([answer, NOISE]));
    });
    expect(await session.request('GET_CONFIG', { bank: 0 })).toEqual({ idScope: '0ne1' });
    expect(damagedFrames(session.stats.decoder)).toBe(1);

    expect(await session.request('GET_CONFIG', { bank: 1 }, { retries: 2 })).toEqual({
      idScope: '0ne1',
    });
    expect(device.frames.map((f) => f.requestId)).toEqual([1, 2]);
    expect(session.stats.retransmissions).toBe(0);
  });

  /** A device that takes chunked PUT_CERT_CHAIN requests; `answer` sends what ends one. */
  function chunkedPeer(options: {
    ackFor: (offset: number, tries: number) => 'whole' | 'garbled';
    answer: (frame: Frame, d: ScriptedDevice, times: number) => void;
  }) {
    let next = 0;
    let answers = 0;
    const acks = new Map<number, number>();
    return (frame: Frame, d: ScriptedDevice) => {
      if (frame.type === MessageType.INFO)
        return d.send(reply(frame, encodeResponse('INFO', info)));
      const chunk = frame.chunk!;
      if (chunk.offset === next) next += frame.data.length;
      if (next === chunk.total) return options.answer(frame, d, ++answers);
      const tries = (acks.get(chunk.offset) ?? 0) + 1;
      acks.set(chunk.offset, tries);
      if (options.ackFor(chunk.offset, tries) === 'whole') d.send(ack(frame, next));
      else void d.end.write(garbled(ack(frame, next)));
    };
  }

  const putChain = { chain: [new Uint8Array(600).fill(0x30)] };
  const chunkOffsets = (device: ScriptedDevice) =>
    device.frames.filter((f) => f.chunk).map((f) => f.chunk!.offset);

  it('re-sends the chunk whose ACK arrived garbled, then completes, re-sending nothing else', async () => {
    const { session, device } = await setup(
      chunkedPeer({
        ackFor: (offset, tries) => (offset === 0 && tries === 1 ? 'garbled' : 'whole'),
        answer: (frame, d) => d.send(reply(frame, encodeResponse('PUT_CERT_CHAIN', {}))),
      }),
      // The garbled ACK is found by the chunk timeout (200 ms): long enough that a whole ACK
      // delayed by a busy machine is not taken for a lost one.
      { chunkTimeoutMs: 4000 },
    );
    await session.identify();
    expect(await session.request('PUT_CERT_CHAIN', putChain)).toEqual({});
    // 256-byte frames carry 245 bytes of data: 0 (its ACK garbled), 0 again, 245, 490.
    expect(chunkOffsets(device)).toEqual([0, 0, 245, 490]);
    expect(session.stats.retransmissions).toBe(1);
  });

  it('re-sends only the last chunk when the answer to it arrives garbled', async () => {
    const { session, device } = await setup(
      chunkedPeer({
        ackFor: () => 'whole',
        // The device replays its answer to the repeated last chunk (PROTOCOL.md §6.2).
        answer: (frame, d, times) => {
          const answer = reply(frame, encodeResponse('PUT_CERT_CHAIN', {}));
          if (times === 1) void d.end.write(garbled(answer));
          else d.send(answer);
        },
      }),
      { chunkTimeoutMs: 4000 },
    );
    await session.identify();
    // Waiting out the request's timeout (a minute) instead would fail the test (5 s).
    const answer = await session.request('PUT_CERT_CHAIN', putChain, { timeoutMs: 60_000 });
    expect(answer).toEqual({});
    expect(chunkOffsets(device)).toEqual([0, 245, 490, 490]);
    expect(session.stats.retransmissions).toBe(1);
  }, 5_000);

  it('recovers a garbled chunk of a response by repeating its ACK, never the request', async () => {
    const csr = new Uint8Array(700).map((_, i) => i & 0xff);
    const whole = encodeResponse('GEN_KEY_CSR', { csr });
    let garbledOnce = false;
    const { session, device } = await setup(
      (frame, d) => {
        if (frame.type === MessageType.GET_CONFIG) return d.send(config(frame));
        const from = frame.ackNextOffset ?? 0;
        const chunk = {
          ...reply(frame, whole.subarray(from, Math.min(from + 300, whole.length))),
          chunk: { offset: from, total: whole.length },
        };
        if (from === 300 && !garbledOnce) {
          garbledOnce = true;
          return void d.end.write(garbled(chunk));
        }
        d.send(chunk);
      },
      { chunkTimeoutMs: 4000 },
    );
    const res = await session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { timeoutMs: 60_000 },
    );
    expect(Buffer.from(res.csr).equals(Buffer.from(csr))).toBe(true);
    expect(damagedFrames(session.stats.decoder)).toBe(1);
    const requests = device.frames.filter((f) => f.ackNextOffset === undefined);
    expect(requests.map((f) => f.type)).toEqual([MessageType.GEN_KEY_CSR]);
    expect(device.frames.filter((f) => f.ackNextOffset === 300)).toHaveLength(2);
    expect(session.stats.retransmissions).toBe(1);

    // Nor is the damage left for the next request to act on.
    expect(await session.request('GET_CONFIG', { bank: 0 }, { retries: 2 })).toEqual({
      idScope: '0ne1',
    });
    expect(device.frames.filter((f) => f.type === MessageType.GET_CONFIG)).toHaveLength(1);
    expect(session.stats.retransmissions).toBe(1);
  }, 5_000);
});

describe('DeviceSession on a noisy line', () => {
  it('tells a garbled answer (WIRE_LINK_NOISY) from none at all (WIRE_TIMEOUT)', async () => {
    // The answer leaves the device with one bit flipped on the way: its CRC fails at the station.
    const garbled = (frame: Frame, d: ScriptedDevice) => {
      const bytes = encodeFrame({
        ...reply(frame, encodeResponse('GET_CONFIG', { idScope: '0ne1' })),
        fromDevice: true,
        error: false,
      });
      const at = bytes.findIndex((b, i) => i > 3 && b !== 0 && b !== 1);
      bytes[at] = bytes[at]! ^ 1;
      void d.end.write(bytes);
    };
    const noisy = await setup(garbled);
    const error = await noisy.session
      .request('GET_CONFIG', { bank: 0 }, { timeoutMs: 40, retries: 1 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'WIRE_LINK_NOISY' });
    expect((error as WireError).detail).toMatch(/no answer in 40 ms; 2 damaged frame\(s\)/);

    // Garbage before the request (boot noise) is not this request's: silence is a timeout.
    const quiet = await setup(() => undefined);
    await quiet.device.end.write(new Uint8Array([0x41, 0x42, 0x43, 0x00]));
    await vi.waitFor(() => expect(damagedFrames(quiet.session.stats.decoder)).toBeGreaterThan(0));
    expect(
      await codeOf(quiet.session.request('GET_CONFIG', { bank: 0 }, { timeoutMs: 40, retries: 0 })),
    ).toBe('WIRE_TIMEOUT');
  });

  it('asks again at once, with the same request id, when the answer arrives damaged', async () => {
    // GEN_KEY_CSR is not idempotent, but the device replays its stored answer to a repeat
    // (PROTOCOL.md §6.2): the second answer is that replay, whole. Waiting out the request's
    // timeout (a minute here) would fail the test.
    let answers = 0;
    const { session, device } = await setup((frame, d) => {
      const bytes = encodeFrame({
        ...reply(frame, encodeResponse('GEN_KEY_CSR', { csr: new Uint8Array([1, 2, 3]) })),
        fromDevice: true,
        error: false,
      });
      if (++answers === 1) bytes[5] = bytes[5]! ^ 0x10;
      void d.end.write(bytes);
    });
    const answer = await session.request(
      'GEN_KEY_CSR',
      { curve: 'P-256', commonName: 'x' },
      { timeoutMs: 60_000 },
    );
    expect(answer).toEqual({ csr: new Uint8Array([1, 2, 3]) });
    expect(device.frames.map((f) => [f.type, f.requestId])).toEqual([
      [MessageType.GEN_KEY_CSR, 1],
      [MessageType.GEN_KEY_CSR, 1],
    ]);
    expect(session.stats.retransmissions).toBe(1);
  });

  it('past its re-sends, a damaged answer still leaves time for a whole one', async () => {
    // Each request meets a damaged frame; the answer comes whole 30 ms after the first. One
    // re-send is allowed: the second damage must not fail the request while its time runs.
    const { session, device } = await setup((frame, d) => {
      void d.end.write(new Uint8Array([0x41, 0x42, 0x43, 0x00]));
      if (d.frames.length > 1) return;
      setTimeout(() => d.send(reply(frame, encodeResponse('GET_CONFIG', { idScope: '0ne1' }))), 30);
    });
    const config = await session.request(
      'GET_CONFIG',
      { bank: 0 },
      { timeoutMs: 5_000, retries: 1 },
    );
    expect(config).toEqual({ idScope: '0ne1' });
    expect(device.frames).toHaveLength(2);
    expect(damagedFrames(session.stats.decoder)).toBe(2);
  });
});
