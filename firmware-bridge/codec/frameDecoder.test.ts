import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from './frame.js';
import { FrameDecoder } from './frameDecoder.js';
import { arbitraryFrame, concat, sameFrame, splitAt } from './testFrames.js';

const MAX_BODY = 1024;

function decodeAll(
  chunks: Uint8Array[],
  maxBody = MAX_BODY,
): { frames: Frame[]; decoder: FrameDecoder } {
  const decoder = new FrameDecoder(maxBody);
  const frames = chunks.flatMap((c) => decoder.push(c));
  return { frames, decoder };
}

describe('FrameDecoder', () => {
  it('yields every frame of any sequence, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryFrame(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const wire = concat(frames.map(encodeFrame));
          const { frames: out } = decodeAll(splitAt(wire, cuts));
          expect(out.length).toBe(frames.length);
          out.forEach((f, i) => expect(sameFrame(f, frames[i]!)).toBe(true));
        },
      ),
    );
  });

  it('survives byte-at-a-time delivery', () => {
    const frames = [1, 2, 3].map((id) => ({
      type: 3,
      requestId: id,
      fromDevice: false,
      error: false,
      data: new Uint8Array(300).fill(id),
    }));
    const wire = concat(frames.map(encodeFrame));
    const { frames: out } = decodeAll([...wire].map((b) => new Uint8Array([b])));
    expect(out.map((f) => f.requestId)).toEqual([1, 2, 3]);
  });

  it('never throws on garbage and never turns it into a frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 6 }), (chunks) => {
        const { frames } = decodeAll(chunks);
        expect(frames).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('resynchronises after garbage: frames after the next delimiter all arrive', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(arbitraryFrame(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (garbage, frames, cuts) => {
          const wire = concat([garbage, new Uint8Array([0]), ...frames.map(encodeFrame)]);
          const { frames: out } = decodeAll(splitAt(wire, cuts));
          expect(out.length).toBe(frames.length);
          out.forEach((f, i) => expect(sameFrame(f, frames[i]!)).toBe(true));
        },
      ),
    );
  });

  it('rejects a corrupted frame and keeps the ones around it', () => {
    fc.assert(
      fc.property(
        arbitraryFrame(200),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (frame, position, mask) => {
          const before = encodeFrame({ ...frame, requestId: 1 });
          const victim = Uint8Array.from(encodeFrame(frame));
          const at = position % (victim.length - 1);
          victim[at]! ^= mask;
          const after = encodeFrame({ ...frame, requestId: 2 });
          const { frames: out, decoder } = decodeAll([concat([before, victim, after])]);
          expect(out.map((f) => f.requestId)).toEqual([1, 2]);
          const rejected = Object.values(decoder.stats.rejected).reduce((a, b) => a + b, 0);
          expect(rejected).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses an oversize frame without buffering it, then decodes the next one', () => {
    const big = encodeFrame({
      type: 1,
      requestId: 9,
      fromDevice: true,
      error: false,
      data: new Uint8Array(5000).fill(1),
    });
    const small = encodeFrame({
      type: 1,
      requestId: 10,
      fromDevice: true,
      error: false,
      data: new Uint8Array(4),
    });
    const { frames, decoder } = decodeAll(splitAt(concat([big, small]), [100, 2000, 4000]), 256);
    expect(frames.map((f) => f.requestId)).toEqual([10]);
    expect(decoder.stats.rejected.oversize).toBe(1);
    expect(decoder.stats.bytesDiscarded).toBe(big.length);
  });

  // The buffer holds the worst-case stuffing of the limit; zeros stuff cheaper, so a body a
  // few bytes over the limit fits in it and must be refused after unstuffing.
  it('refuses a body over the limit even when its stuffing fits the buffer', () => {
    const frameOf = (bodyLength: number, requestId: number) => {
      const data = new Uint8Array(bodyLength - 7).fill(0x41);
      for (let i = 0; i < data.length; i += 100) data[i] = 0;
      return encodeFrame({ type: 1, requestId, fromDevice: false, error: false, data });
    };
    const over = frameOf(515, 1);
    const { frames, decoder } = decodeAll([concat([over, frameOf(512, 2)])], 512);
    expect(frames.map((f) => f.requestId)).toEqual([2]);
    expect(decoder.stats.rejected.oversize).toBe(1);
    expect(decoder.stats.bytesDiscarded).toBe(over.length);
    for (const length of [513, 514]) {
      expect(decodeAll([frameOf(length, 3)], 512).frames).toEqual([]);
    }
  });

  it('treats back-to-back delimiters as idle line, not as errors', () => {
    const { frames, decoder } = decodeAll([new Uint8Array([0, 0, 0, 0])]);
    expect(frames).toEqual([]);
    expect(Object.values(decoder.stats.rejected).every((n) => n === 0)).toBe(true);
  });
});
