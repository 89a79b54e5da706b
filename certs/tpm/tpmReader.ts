import { CertError } from '../certErrors.js';

/**
 * Reads TPM marshalled data (TPM 2.0 Part 2: big-endian integers, TPM2B = UINT16 size then
 * that many bytes) from a view of the caller's buffer. Every read is bounded by the end it was
 * given, and every TPM2B by the maximum its type allows, so a hostile size field can neither
 * read past the input nor make the station allocate. A short or oversized field is refused as
 * EK_PUBLIC_MALFORMED, naming the field and its offset.
 */
export class TpmReader {
  private at: number;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.at;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.at]! << 8) | this.buf[this.at + 1]!;
    this.at += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const v =
      b[this.at]! * 0x1000000 +
      ((b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!);
    this.at += 4;
    return v;
  }

  /** A TPM2B: its bytes (a view), refused when its size exceeds `max`. */
  sized(what: string, max: number): Uint8Array {
    const size = this.u16(`${what} size`);
    if (size > max) malformed(`${what} is ${size} bytes; at most ${max}`, this.at - 2);
    this.need(size, what);
    const v = this.buf.subarray(this.at, this.at + size);
    this.at += size;
    return v;
  }

  /** Refuses anything left after the last field. */
  finish(what: string): void {
    if (this.at !== this.end) malformed(`${this.end - this.at} bytes after ${what}`, this.at);
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.end) malformed(`${what} truncated`, this.at);
  }
}

export function malformed(detail: string, at?: number): never {
  throw new CertError(
    'EK_PUBLIC_MALFORMED',
    at === undefined ? detail : `${detail} (at byte ${at})`,
  );
}
