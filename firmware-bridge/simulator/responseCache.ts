import { CHUNK_HEADER_LENGTH, CRC_LENGTH, encodeFrame, HEADER_LENGTH } from '../codec/frame.js';

/**
 * The last answered request and its encoded answer (PROTOCOL.md §6.2). A repeat of that request
 * is answered from here, never by executing it again; the host's ACKs of a chunked answer are
 * served from here too.
 */
export class CachedResponse {
  /** Encoded frames by offset, so a re-sent chunk is byte-identical to the first one. */
  private readonly frames = new Map<number, Uint8Array>();

  /**
   * @param frameLimit body limit the answer is cut for: min(device maxFrame, host maxFrame),
   *   fixed when the answer was made so every re-sent chunk has the same boundaries.
   */
  constructor(
    readonly type: number,
    readonly requestId: number,
    readonly error: boolean,
    readonly data: Uint8Array,
    readonly frameLimit: number,
  ) {}

  matches(type: number, requestId: number): boolean {
    return this.type === type && this.requestId === requestId;
  }

  /** True when the answer goes out in chunks. */
  get chunked(): boolean {
    return HEADER_LENGTH + this.data.length + CRC_LENGTH > this.frameLimit;
  }

  /** The whole answer when it fits one frame, else its chunk starting at `offset`. */
  frameAt(offset: number): Uint8Array {
    let bytes = this.frames.get(offset);
    if (bytes !== undefined) return bytes;
    const base = {
      type: this.type,
      requestId: this.requestId,
      fromDevice: true,
      error: this.error,
    };
    if (!this.chunked) {
      bytes = encodeFrame({ ...base, data: this.data });
    } else {
      const slice = this.frameLimit - HEADER_LENGTH - CHUNK_HEADER_LENGTH - CRC_LENGTH;
      const end = Math.min(offset + slice, this.data.length);
      bytes = encodeFrame({
        ...base,
        chunk: { offset, total: this.data.length },
        data: this.data.subarray(offset, end),
      });
    }
    this.frames.set(offset, bytes);
    return bytes;
  }
}
