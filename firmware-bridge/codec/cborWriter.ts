import { MAJOR_BSTR, MAJOR_SIMPLE, MAJOR_TSTR, SIMPLE_FALSE, SIMPLE_TRUE } from './cborReader.js';

/**
 * Byte-level writer for the CBOR subset of PROTOCOL.md §3. The caller measures first (headSize,
 * utf8Length) and the writer fills one array of exactly that size: no chunk list, no token
 * objects, no final concatenation. Heads always take their shortest form (RFC 8949 §4.2.1), as
 * cborg wrote them, so the bytes on the wire are the ones devices received before.
 */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Bytes taken by a head whose argument is `arg` (a safe non-negative integer). */
export function headSize(arg: number): number {
  if (arg < 24) return 1;
  if (arg <= 0xff) return 2;
  if (arg <= 0xffff) return 3;
  if (arg <= 0xffff_ffff) return 5;
  return 9;
}

/**
 * UTF-8 length of `s` as TextEncoder would write it: a lone surrogate becomes U+FFFD (3 bytes).
 * Counting beats encoding for the short strings of our messages, which are nearly all ASCII.
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 2; // the pair's two code units become four bytes
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** `s` as it reads back after UTF-8 encoding: lone surrogates replaced by U+FFFD. */
export function wellFormed(s: string): string {
  return utf8Decoder.decode(utf8.encode(s));
}

/**
 * Sorts text keys into canonical order in place. Array.prototype.sort allocates close to a
 * kilobyte of work space even for two keys; a map of text keys here holds a handful of entries.
 */
export function sortTextKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort(compareTextKeys);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && compareTextKeys(keys[j]!, key) > 0; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

/** RFC 7049 canonical order of text keys: shorter UTF-8 first, then bytewise. */
function compareTextKeys(a: string, b: string): number {
  const lengthA = utf8Length(a);
  const lengthB = utf8Length(b);
  if (lengthA !== lengthB) return lengthA - lengthB;
  // For ASCII, UTF-16 code units are the bytes; only other text needs encoding to compare.
  if (lengthA === a.length && lengthB === b.length) return a < b ? -1 : a > b ? 1 : 0;
  const bytesA = utf8.encode(a);
  const bytesB = utf8.encode(b);
  for (let i = 0; i < bytesA.length; i++) {
    if (bytesA[i] !== bytesB[i]) return bytesA[i]! - bytesB[i]!;
  }
  return 0;
}

export class CborWriter {
  readonly bytes: Uint8Array;
  private pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  head(major: number, arg: number): void {
    const out = this.bytes;
    let p = this.pos;
    const top = major << 5;
    if (arg < 24) {
      out[p++] = top | arg;
    } else if (arg <= 0xff) {
      out[p++] = top | 24;
      out[p++] = arg;
    } else if (arg <= 0xffff) {
      out[p++] = top | 25;
      out[p++] = arg >>> 8;
      out[p++] = arg & 0xff;
    } else if (arg <= 0xffff_ffff) {
      out[p++] = top | 26;
      p = writeUint32(out, p, arg);
    } else {
      out[p++] = top | 27;
      p = writeUint32(out, p, Math.floor(arg / 0x1_0000_0000));
      p = writeUint32(out, p, arg >>> 0);
    }
    this.pos = p;
  }

  bool(value: boolean): void {
    this.bytes[this.pos++] = (MAJOR_SIMPLE << 5) | (value ? SIMPLE_TRUE : SIMPLE_FALSE);
  }

  byteString(value: Uint8Array): void {
    this.head(MAJOR_BSTR, value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }

  /** Writes a text string whose UTF-8 length the caller has measured. */
  text(value: string, byteLength: number): void {
    this.head(MAJOR_TSTR, byteLength);
    const out = this.bytes;
    if (byteLength === value.length) {
      // Equal lengths mean every code unit is ASCII.
      let p = this.pos;
      for (let i = 0; i < value.length; i++) out[p++] = value.charCodeAt(i);
    } else {
      utf8.encodeInto(value, out.subarray(this.pos, this.pos + byteLength));
    }
    this.pos += byteLength;
  }

  /** The encoded bytes; throws if measuring and writing disagreed, rather than send garbage. */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.length) {
      throw new Error(`CBOR writer filled ${this.pos} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}

function writeUint32(out: Uint8Array, p: number, value: number): number {
  out[p] = value >>> 24;
  out[p + 1] = (value >>> 16) & 0xff;
  out[p + 2] = (value >>> 8) & 0xff;
  out[p + 3] = value & 0xff;
  return p + 4;
}
