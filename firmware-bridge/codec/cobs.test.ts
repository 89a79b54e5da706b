import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';

describe('COBS', () => {
  it('round-trips any bytes and never emits a zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (input) => {
        const encoded = cobsEncode(input);
        expect(encoded.includes(0)).toBe(false);
        expect(encoded.length).toBeLessThanOrEqual(cobsMaxEncodedLength(input.length));
        expect(Buffer.from(cobsDecode(encoded)!)).toEqual(Buffer.from(input));
      }),
    );
  });

  it('handles runs of exactly 254 and 255 non-zero bytes', () => {
    for (const n of [253, 254, 255, 508, 509]) {
      const input = new Uint8Array(n).fill(7);
      expect(Buffer.from(cobsDecode(cobsEncode(input))!)).toEqual(Buffer.from(input));
    }
  });

  it('refuses blocks with a zero inside or a code past the end', () => {
    expect(cobsDecode(new Uint8Array([3, 1, 0]))).toBeNull();
    expect(cobsDecode(new Uint8Array([5, 1, 2]))).toBeNull();
    expect(cobsDecode(new Uint8Array([0]))).toBeNull();
  });
});
