import { CONSTRUCTED } from './derTags.js';

/**
 * A strict DER reader. Every TLV is described by offsets into the caller's buffer, so nothing is
 * copied while a CSR or certificate is walked, and the raw bytes of any element (the signed
 * part of a CSR, a Name, a SubjectPublicKeyInfo) are a `subarray` away.
 *
 * It refuses what DER forbids rather than guessing: indefinite lengths, lengths longer than
 * needed, a value running past its container, trailing bytes after the outermost element. It
 * never reads past the end it was given. Refusals are returned as a `DerProblem` value, not
 * thrown, so the readers built on it decide at their own boundary how to report them.
 */

/** One element: `buf[start]` is the tag, `buf[valueStart..end)` the value. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** Why the bytes are not DER, and the offset where that was found. */
export class DerProblem {
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {}

  toString(): string {
    return `${this.reason} (at byte ${this.at})`;
  }
}

/** True when `r` is a refusal rather than a value. */
export function isProblem<T>(r: T | DerProblem): r is DerProblem {
  return r instanceof DerProblem;
}

/** Lengths above this are refused: nothing the station reads comes near 16 MiB. */
const MAX_LENGTH_OCTETS = 3;

/** Reads the TLV starting at `at`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, at: number, limit: number): Tlv | DerProblem {
  if (limit > buf.length) limit = buf.length;
  if (at + 2 > limit) return new DerProblem('element truncated', at);
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) return new DerProblem('multi-byte tag not supported', at);
  const first = buf[at + 1]!;
  let length: number;
  let valueStart: number;
  if (first < 0x80) {
    length = first;
    valueStart = at + 2;
  } else if (first === 0x80) {
    return new DerProblem('indefinite length (BER, not DER)', at + 1);
  } else {
    const count = first & 0x7f;
    if (count > MAX_LENGTH_OCTETS) return new DerProblem('length too large', at + 1);
    if (at + 2 + count > limit) return new DerProblem('length truncated', at + 1);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[at + 2 + i]!;
    // DER uses the fewest octets: long form only from 128, and no leading zero octet.
    if (length < 0x80 || buf[at + 2] === 0) {
      return new DerProblem('length not minimally encoded', at + 1);
    }
    valueStart = at + 2 + count;
  }
  const end = valueStart + length;
  if (end > limit) return new DerProblem('value runs past the end of its container', at);
  return { tag, start: at, valueStart, end };
}

/** Reads `buf` as exactly one element: no trailing bytes. */
export function readWhole(buf: Uint8Array, expectedTag: number): Tlv | DerProblem {
  const tlv = readTlv(buf, 0, buf.length);
  if (isProblem(tlv)) return tlv;
  if (tlv.tag !== expectedTag) return wrongTag(tlv, expectedTag);
  if (tlv.end !== buf.length) return new DerProblem('trailing bytes after the element', tlv.end);
  return tlv;
}

/** Walks the elements inside a constructed TLV, one after another. */
export class DerCursor {
  private at: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  /** A cursor over the children of `tlv`, which must be constructed. */
  static inside(buf: Uint8Array, tlv: Tlv): DerCursor | DerProblem {
    if ((tlv.tag & CONSTRUCTED) === 0) {
      return new DerProblem('expected a constructed element', tlv.start);
    }
    return new DerCursor(buf, tlv.valueStart, tlv.end);
  }

  /** True when every child has been read. */
  get done(): boolean {
    return this.at >= this.end;
  }

  /** The tag of the next child, or undefined at the end. */
  peekTag(): number | undefined {
    return this.at < this.end ? this.buf[this.at] : undefined;
  }

  /** Reads the next child, which must carry `expectedTag`. */
  next(expectedTag: number): Tlv | DerProblem {
    if (this.at >= this.end)
      return new DerProblem(`missing element (tag 0x${hex(expectedTag)})`, this.at);
    const tlv = readTlv(this.buf, this.at, this.end);
    if (isProblem(tlv)) return tlv;
    if (tlv.tag !== expectedTag) return wrongTag(tlv, expectedTag);
    this.at = tlv.end;
    return tlv;
  }

  /** Reads the next child whatever its tag. */
  nextAny(): Tlv | DerProblem {
    if (this.at >= this.end) return new DerProblem('missing element', this.at);
    const tlv = readTlv(this.buf, this.at, this.end);
    if (!isProblem(tlv)) this.at = tlv.end;
    return tlv;
  }

  /** Refuses anything left over; returns undefined when the container was fully read. */
  finish(): DerProblem | undefined {
    return this.at === this.end ? undefined : new DerProblem('unexpected extra element', this.at);
  }
}

function wrongTag(tlv: Tlv, expected: number): DerProblem {
  return new DerProblem(`expected tag 0x${hex(expected)}, found 0x${hex(tlv.tag)}`, tlv.start);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
