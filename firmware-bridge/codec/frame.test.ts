import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode } from './cobs.js';
import { crc32 } from './crc32.js';
import { encodeBody, encodeFrame, parseBody, type Frame } from './frame.js';
import { arbitraryFrame, sameFrame } from './testFrames.js';

/** Re-signs a hand-edited body so the test reaches the checks after the CRC. */
function reCrc(body: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(body);
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32(copy.subarray(0, -4)), true);
  return copy;
}

const sample: Frame = {
  type: 1,
  requestId: 7,
  fromDevice: true,
  error: false,
  data: new Uint8Array([0xa0]),
};

describe('frame body', () => {
  it('round-trips every frame shape', () => {
    fc.assert(
      fc.property(arbitraryFrame(), (frame) => {
        const encoded = encodeFrame(frame);
        expect(encoded[encoded.length - 1]).toBe(0);
        expect(encoded.subarray(0, -1).includes(0)).toBe(false);
        const parsed = parseBody(cobsDecode(encoded.subarray(0, -1))!);
        expect(typeof parsed).toBe('object');
        expect(sameFrame(parsed as Frame, frame)).toBe(true);
      }),
    );
  });

  it('costs 7 bytes of header and CRC plus COBS and the delimiter', () => {
    const data = new Uint8Array(100).fill(1);
    expect(encodeFrame({ ...sample, data }).length).toBe(100 + 7 + 2);
  });

  it('refuses to encode ids and offsets the header cannot carry', () => {
    expect(() => encodeBody({ ...sample, requestId: 256 })).toThrow(RangeError);
    expect(() => encodeBody({ ...sample, chunk: { offset: 0, total: 70_000 } })).toThrow(
      RangeError,
    );
  });

  it('rejects short bodies, bad CRCs, other versions, contradictory flags and broken layouts', () => {
    const body = encodeBody(sample);
    expect(parseBody(body.subarray(0, 6))).toBe('short');
    const flipped = Uint8Array.from(body);
    flipped[3]! ^= 0x40;
    expect(parseBody(flipped)).toBe('crc');
    const v2 = Uint8Array.from(body);
    v2[0] = 0x21;
    expect(parseBody(reCrc(v2))).toBe('version');
    const chunkAndAck = Uint8Array.from(body);
    chunkAndAck[0]! |= 0x0c;
    expect(parseBody(reCrc(chunkAndAck))).toBe('flags');
    const hostError = Uint8Array.from(body);
    hostError[0] = 0x12;
    expect(parseBody(reCrc(hostError))).toBe('flags');
    const zeroId = Uint8Array.from(body);
    zeroId[2] = 0;
    expect(parseBody(reCrc(zeroId))).toBe('layout');
    const chunk = encodeBody({
      ...sample,
      chunk: { offset: 10, total: 10 },
      data: new Uint8Array(5),
    });
    // offset + length beyond total
    expect(parseBody(chunk)).toBe('layout');
  });
});
