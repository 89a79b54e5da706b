/**
 * A session on a line that garbles answers: a damaged answer is asked for again at once with its
 * request id (the device replays it, PROTOCOL.md §6.2), and a request that met only damage fails
 * as WIRE_LINK_NOISY, not as the silence of WIRE_TIMEOUT.
 */
import { describe, expect, it, vi } from 'vitest';
import { encodeFrame, type Frame } from '../codec/frame.js';
import { damagedFrames } from '../codec/frameDecoder.js';
import { encodeResponse, MessageType } from '../codec/messages.js';
import type { WireError } from '../codec/wireErrors.js';
import { codeOf, reply, setup, type ScriptedDevice } from './testing/scriptedDevice.js';

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
