import { cobsDecode, cobsMaxEncodedLength } from './cobs.js';
import { FRAME_DELIMITER, parseBody, type BodyRejection, type Frame } from './frame.js';

/** Counters a session exposes so an operator can see a noisy link (PROTOCOL.md §2.2). */
export interface DecoderStats {
  framesAccepted: number;
  /** Bodies refused, by reason; `cobs` = invalid stuffing, `oversize` = longer than the limit. */
  rejected: Record<BodyRejection | 'cobs' | 'oversize', number>;
  /** Bytes that never became part of an accepted frame. */
  bytesDiscarded: number;
}

/**
 * Bodies refused as damaged on the way (CRC, stuffing, cut short, size, flags, layout): all but
 * those of another protocol version, which arrived whole.
 */
export function damagedFrames(stats: DecoderStats): number {
  // Read at every request of every device: a sum, with no object made for it.
  const r = stats.rejected;
  return r.short + r.crc + r.flags + r.layout + r.cobs + r.oversize;
}

/**
 * Streaming frame decoder: feed it bytes in any chunking, get whole frames back. Garbage and
 * cut frames are dropped at the next delimiter; bytes beyond the size limit are not buffered.
 */
export class FrameDecoder {
  private readonly buffer: Uint8Array;
  private length = 0;
  private overflowed = false;
  private overflowBytes = 0;
  readonly stats: DecoderStats = {
    framesAccepted: 0,
    rejected: { short: 0, crc: 0, version: 0, flags: 0, layout: 0, cobs: 0, oversize: 0 },
    bytesDiscarded: 0,
  };

  /** @param maxBody largest body (before COBS) this side accepts. */
  constructor(private readonly maxBody: number) {
    this.buffer = new Uint8Array(cobsMaxEncodedLength(maxBody));
  }

  /** Consumes bytes; returns the frames completed by them, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(FRAME_DELIMITER, start);
      const stop = end === -1 ? chunk.length : end;
      this.append(chunk, start, stop);
      if (end === -1) break;
      const frame = this.finish();
      if (frame !== null) frames.push(frame);
      start = end + 1;
    }
    return frames;
  }

  /** Drops any partial frame, e.g. after the port was reopened. */
  reset(): void {
    this.stats.bytesDiscarded += this.length + this.overflowBytes;
    this.length = 0;
    this.overflowed = false;
    this.overflowBytes = 0;
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    if (this.overflowed) {
      this.overflowBytes += n;
      return;
    }
    if (this.length + n > this.buffer.length) {
      // Refuse an oversize frame before buffering it: remember only how much we skipped.
      this.overflowed = true;
      this.overflowBytes = this.length + n;
      this.length = 0;
      return;
    }
    this.buffer.set(chunk.subarray(from, to), this.length);
    this.length += n;
  }

  private finish(): Frame | null {
    if (this.overflowed) {
      this.stats.rejected.oversize++;
      this.stats.bytesDiscarded += this.overflowBytes + 1;
      this.overflowed = false;
      this.overflowBytes = 0;
      return null;
    }
    const encodedLength = this.length;
    this.length = 0;
    // Back-to-back delimiters are idle line fill, not frames.
    if (encodedLength === 0) return null;
    const body = cobsDecode(this.buffer, encodedLength);
    if (body === null) {
      this.stats.rejected.cobs++;
      this.stats.bytesDiscarded += encodedLength + 1;
      return null;
    }
    // The buffer fits the worst-case stuffing of maxBody; a body with zeros stuffs cheaper, so
    // up to maxBody/254 bytes more of it fit too. The limit is on the body (PROTOCOL.md §2.2).
    if (body.length > this.maxBody) {
      this.stats.rejected.oversize++;
      this.stats.bytesDiscarded += encodedLength + 1;
      return null;
    }
    const parsed = parseBody(body);
    if (typeof parsed === 'string') {
      this.stats.rejected[parsed]++;
      this.stats.bytesDiscarded += encodedLength + 1;
      return null;
    }
    this.stats.framesAccepted++;
    return parsed;
  }
}
