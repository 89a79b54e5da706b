import fc from 'fast-check';
import type { Frame } from './frame.js';

/**
 * fast-check arbitraries for frames, shared by the codec's property tests and the decoder fuzz
 * run, so both explore the same space.
 */
export function arbitraryFrame(maxData = 300): fc.Arbitrary<Frame> {
  const base = {
    type: fc.integer({ min: 0, max: 255 }),
    requestId: fc.integer({ min: 1, max: 0xff }),
    fromDevice: fc.boolean(),
    data: fc.uint8Array({ maxLength: maxData }),
  };
  const plain = fc
    .record({ ...base, error: fc.boolean() })
    .map((f): Frame => ({ ...f, error: f.error && f.fromDevice }));
  const chunk = fc
    .record({ ...base, offset: fc.integer({ min: 0, max: 64_000 }), extra: fc.nat(200) })
    .map((f): Frame => ({
      type: f.type,
      requestId: f.requestId,
      fromDevice: f.fromDevice,
      error: false,
      chunk: { offset: f.offset, total: f.offset + f.data.length + f.extra },
      data: f.data,
    }));
  const ack = fc.record({ ...base, next: fc.nat(0xffff) }).map((f): Frame => ({
    type: f.type,
    requestId: f.requestId,
    fromDevice: f.fromDevice,
    error: false,
    ackNextOffset: f.next,
    data: new Uint8Array(0),
  }));
  return fc.oneof(plain, chunk, ack);
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    parts.push(bytes.subarray(start, p));
    start = p;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Frame equality on the fields that travel on the wire. */
export function sameFrame(a: Frame, b: Frame): boolean {
  return (
    a.type === b.type &&
    a.requestId === b.requestId &&
    a.fromDevice === b.fromDevice &&
    a.error === b.error &&
    a.chunk?.offset === b.chunk?.offset &&
    a.chunk?.total === b.chunk?.total &&
    a.ackNextOffset === b.ackNextOffset &&
    Buffer.from(a.data).equals(Buffer.from(b.data))
  );
}
