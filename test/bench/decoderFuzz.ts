import fc from 'fast-check';
import { cobsEncode } from '../../firmware-bridge/codec/cobs.js';
import { crc32 } from '../../firmware-bridge/codec/crc32.js';
import {
  encodeBody,
  encodeFrame,
  parseBody,
  type Frame,
} from '../../firmware-bridge/codec/frame.js';
import { FrameDecoder, type DecoderStats } from '../../firmware-bridge/codec/frameDecoder.js';
import {
  arbitraryFrame,
  concat,
  sameFrame,
  splitAt,
} from '../../firmware-bridge/codec/testFrames.js';

/**
 * One fuzz input: a byte stream made of intact frames, corrupted frames and garbage, each piece
 * closed by a delimiter so that damage cannot spill into the next intact frame. Only the intact
 * frames may come out of the decoder, in order; anything else is a false accept.
 */
interface FuzzCase {
  pieces: { bytes: Uint8Array; intact?: Frame }[];
  cuts: number[];
}

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'truncate'; at: number; value: number };

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = Array.from(bytes.subarray(0, -1)); // without its delimiter
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at] = out[at]! ^ (m.value % 255 || 1);
    else if (m.kind === 'insert') out.splice(at, 0, m.value & 0xff);
    else if (m.kind === 'delete') out.splice(at, 1);
    else out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  value: fc.integer({ min: 1, max: 255 }),
});

const pieceArb = fc.oneof(
  { weight: 3, arbitrary: arbitraryFrame(400).map((f) => ({ bytes: encodeFrame(f), intact: f })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(arbitraryFrame(400), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([f, ms]) => ({ original: encodeFrame(f), bytes: mutate(encodeFrame(f), ms) }))
      // An insert undone by a delete leaves the frame intact: that is not a corrupted input.
      .filter(
        (p) =>
          !p.bytes.includes(0) &&
          !Buffer.from(p.bytes).equals(Buffer.from(p.original.subarray(0, -1))),
      )
      .map((p) => ({ bytes: p.bytes })),
  },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ bytes })) },
  // Long runs without a delimiter exercise the oversize path.
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 400, maxLength: 1500 })
      .map((bytes) => ({ bytes: bytes.map((b) => b || 1) })),
  },
  // Random bodies with a correct CRC reach the header checks behind it.
  {
    weight: 2,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 60 }).map((head) => {
      const body = new Uint8Array(head.length + 4);
      body.set(head);
      new DataView(body.buffer).setUint32(head.length, crc32(head), true);
      const parsed = parseBody(body);
      const bytes = encodeCobsFrame(body);
      return typeof parsed === 'string' ? { bytes } : { bytes, intact: parsed };
    }),
  },
);

function encodeCobsFrame(body: Uint8Array): Uint8Array {
  const encoded = cobsEncode(body);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.record({
  pieces: fc.array(pieceArb, { minLength: 1, maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

export interface FuzzReport {
  inputs: number;
  bytes: number;
  framesExpected: number;
  framesAccepted: number;
  falseAccepts: number;
  crashes: number;
  rejected: DecoderStats['rejected'];
  seconds: number;
}

/** Runs `inputs` fuzz cases through fresh decoders; throws (with the shrunk case) on any failure. */
export function runDecoderFuzz(
  inputs: number,
  seed: number,
  onProgress?: (done: number) => void,
): FuzzReport {
  const report: FuzzReport = {
    inputs: 0,
    bytes: 0,
    framesExpected: 0,
    framesAccepted: 0,
    falseAccepts: 0,
    crashes: 0,
    rejected: { short: 0, crc: 0, version: 0, flags: 0, layout: 0, cobs: 0, oversize: 0 },
    seconds: 0,
  };
  const started = performance.now();
  fc.assert(
    fc.property(fuzzCaseArb, (c) => {
      // Garbage may contain zeros; each piece still ends with a delimiter of its own.
      const wire = concat(
        c.pieces.flatMap((p) => (p.intact ? [p.bytes] : [p.bytes, new Uint8Array([0])])),
      );
      const expected = c.pieces.flatMap((p) => (p.intact ? [p.intact] : []));
      const decoder = new FrameDecoder(512);
      let out: Frame[];
      try {
        out = splitAt(wire, c.cuts).flatMap((chunk) => decoder.push(chunk));
      } catch (err) {
        report.crashes++;
        throw err;
      }
      report.inputs++;
      report.bytes += wire.length;
      report.framesExpected += expected.length;
      report.framesAccepted += out.length;
      for (const [k, v] of Object.entries(decoder.stats.rejected))
        report.rejected[k as keyof typeof report.rejected] += v;
      const exact =
        out.length === expected.length &&
        out.every((f, i) => sameFrame(f, expected[i]!) && reencodes(f));
      if (!exact) report.falseAccepts++;
      if (onProgress && report.inputs % 50_000 === 0) onProgress(report.inputs);
      return exact;
    }),
    { numRuns: inputs, seed, endOnFailure: true },
  );
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** An accepted frame must encode back to a body the decoder accepts as the same frame. */
function reencodes(frame: Frame): boolean {
  const again = parseBody(encodeBody(frame));
  return typeof again !== 'string' && sameFrame(again, frame);
}
