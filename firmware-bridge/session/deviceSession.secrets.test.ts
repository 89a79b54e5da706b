/**
 * A request that carries a key (PUT_PRIVATE_KEY in x509-station-key mode) leaves no copy of it in
 * station memory once it settles: every frame the session handed to the transport (the request,
 * its chunks, its re-sends) is all zeros afterwards, whether the device took the key, refused
 * it, stayed silent, was unplugged or the run was cancelled. The caller's own key buffer is the
 * caller's to zero (x509StationKey.ts), so the session leaves it alone.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_HEADER_LENGTH, CRC_LENGTH, HEADER_LENGTH, type Frame } from '../codec/frame.js';
import { encodeErrorBody, encodeResponse, MessageType } from '../codec/messages.js';
import { DeviceErrorCode, WireError } from '../codec/wireErrors.js';
import type { MockTransport } from '../transports/mockTransport.js';
import { reply, setup, type ScriptedDevice } from './testing/scriptedDevice.js';

/** A recognisable stand-in for PKCS#8 DER: no zero bytes, so a zeroed frame is unmistakable. */
function fakeKey(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => 0x30 + (i % 0xc0));
}

/**
 * Records every array the session hands to the host end's write, by reference, and a copy of
 * what each held then (to show it carried the key before it was zeroed).
 */
function captureWrites(host: MockTransport): { written: Uint8Array[]; copies: Uint8Array[] } {
  const written: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  const write = host.write.bind(host);
  host.write = (bytes: Uint8Array) => {
    written.push(bytes);
    copies.push(Uint8Array.from(bytes));
    return write(bytes);
  };
  return { written, copies };
}

const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/** The key bytes the device received, reassembled from the request frames of the last id. */
function keyOnWire(device: ScriptedDevice): Uint8Array {
  const requests = device.frames.filter((f) => f.type === MessageType.PUT_PRIVATE_KEY);
  const last = requests[requests.length - 1]!;
  const parts = requests.filter((f) => f.requestId === last.requestId);
  return Buffer.concat(
    parts.filter((f, i) => i === parts.length - 1 || f.chunk).map((f) => f.data),
  );
}

const done = (frame: Frame, d: ScriptedDevice) =>
  d.send(reply(frame, encodeResponse('PUT_PRIVATE_KEY', {})));
const refuse = (frame: Frame, d: ScriptedDevice) =>
  d.send({ ...reply(frame, encodeErrorBody({ code: DeviceErrorCode.LOCKED })), error: true });

/** A device that ACKs every chunk of a chunked request and meets the whole one with `last`. */
function chunkedPeer(last: (frame: Frame, d: ScriptedDevice) => void) {
  return (frame: Frame, d: ScriptedDevice) => {
    const chunk = frame.chunk;
    if (chunk && chunk.offset + frame.data.length < chunk.total) {
      return d.send({
        type: frame.type,
        requestId: frame.requestId,
        ackNextOffset: chunk.offset + frame.data.length,
        data: new Uint8Array(0),
      });
    }
    last(frame, d);
  };
}

async function putKey(
  onFrame: (frame: Frame, d: ScriptedDevice) => void,
  pkcs8: Uint8Array,
  options: { timeoutMs?: number; retries?: number; signal?: AbortSignal } = {},
) {
  const { session, device, host } = await setup(onFrame);
  const { written, copies } = captureWrites(host);
  const code = await session.request('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8 }, options).then(
    () => 'OK',
    (err: unknown) => (err instanceof WireError ? err.code : Promise.reject(err)),
  );
  return { code, written, copies, device, session };
}

describe('DeviceSession: a request carrying a key leaves no copy of it', () => {
  it('zeroes the frame after the device took the key; the caller keeps its key', async () => {
    const pkcs8 = fakeKey(138);
    const { code, written, copies, device } = await putKey(done, pkcs8);
    expect(code).toBe('OK');
    expect(Buffer.from(keyOnWire(device)).includes(Buffer.from(pkcs8))).toBe(true);
    expect(written).toHaveLength(1);
    expect(isZero(copies[0]!)).toBe(false);
    expect(written.every(isZero)).toBe(true);
    expect(pkcs8).toEqual(fakeKey(138));
  });

  it('zeroes the frame when the device refuses the key', async () => {
    const { code, written } = await putKey(refuse, fakeKey(138));
    expect(code).toBe('DEVICE_LOCKED');
    expect(written.length).toBeGreaterThan(0);
    expect(written.every(isZero)).toBe(true);
  });

  it('zeroes the frame and its re-sends when the device stays silent', async () => {
    const { code, written, copies } = await putKey(() => {}, fakeKey(138), { timeoutMs: 300 });
    expect(code).toBe('WIRE_TIMEOUT');
    // The first copy and its re-sends within the timeout (two, at 100 and 200 ms): one array.
    expect(copies.length).toBeGreaterThan(1);
    expect(new Set(written).size).toBe(1);
    expect(copies.some(isZero)).toBe(false);
    expect(written.every(isZero)).toBe(true);
  });

  it('zeroes every chunk of a key too large for one frame, answered or refused', async () => {
    // Before INFO, frames carry 256 bytes: a 400-byte key goes in two chunks.
    expect(HEADER_LENGTH + CHUNK_HEADER_LENGTH + CRC_LENGTH + 400).toBeGreaterThan(256);
    for (const [last, expected] of [
      [done, 'OK'],
      [refuse, 'DEVICE_LOCKED'],
    ] as const) {
      const pkcs8 = fakeKey(400);
      const { code, written, device } = await putKey(chunkedPeer(last), pkcs8);
      expect(code).toBe(expected);
      expect(Buffer.from(keyOnWire(device)).includes(Buffer.from(pkcs8))).toBe(true);
      expect(written).toHaveLength(2);
      expect(written.every(isZero)).toBe(true);
    }
  });

  it('zeroes what was written when the device is unplugged mid-transfer', async () => {
    const { code, written } = await putKey((_frame, d) => d.end.unplug(), fakeKey(400));
    expect(code).toBe('WIRE_DISCONNECTED');
    expect(written.length).toBeGreaterThan(0);
    expect(written.every(isZero)).toBe(true);
  });

  it('zeroes the frame when the run is cancelled while the device works', async () => {
    const controller = new AbortController();
    const { code, written } = await putKey(
      () => controller.abort('operator cancelled'),
      fakeKey(138),
      { signal: controller.signal, timeoutMs: 5000 },
    );
    expect(code).toBe('WIRE_ABORTED');
    expect(written).toHaveLength(1);
    expect(written.every(isZero)).toBe(true);
  });

  it('leaves the frames of requests without a secret as they were', async () => {
    const { session, host } = await setup((frame, d) =>
      d.send(reply(frame, encodeResponse('GET_CONFIG', {}))),
    );
    const { written } = captureWrites(host);
    await session.request('GET_CONFIG', { bank: 0 });
    expect(written).toHaveLength(1);
    expect(isZero(written[0]!)).toBe(false);
  });
});
