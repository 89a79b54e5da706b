/**
 * Byte-level reader for the CBOR subset of PROTOCOL.md §3: unsigned and negative integers, byte
 * and text strings, arrays and maps of definite length, false, true and null. Everything else
 * (tags, floats, undefined, other simple values, indefinite lengths, reserved encodings) is
 * refused where its head is read, so no caller can meet it. The reader allocates nothing of its
 * own on the way: it keeps the last head in two fields instead of returning token objects.
 */

export const MAJOR_UINT = 0;
export const MAJOR_NINT = 1;
export const MAJOR_BSTR = 2;
export const MAJOR_TSTR = 3;
export const MAJOR_ARRAY = 4;
export const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
export const MAJOR_SIMPLE = 7;
export const SIMPLE_FALSE = 20;
export const SIMPLE_TRUE = 21;
export const SIMPLE_NULL = 22;

/** Our messages nest three deep; the bound only stops hostile input from exhausting the stack. */
export const MAX_DEPTH = 8;

/** Input that is not well-formed CBOR, or leaves the protocol's subset. */
export class CborSyntaxError extends Error {
  override name = 'CborSyntaxError';
}

/** Stands for a map key that never equals another one (byte string, array or map). */
const UNCOMPARABLE_KEY: unique symbol = Symbol('uncomparable key');

// ignoreBOM keeps a leading U+FEFF: it is part of the string, not a marker to strip.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/**
 * Measured on Node 20: up to about a dozen ASCII bytes a plain loop beats a TextDecoder call;
 * beyond that its intermediate strings allocate more than the call does.
 */
const ASCII_LOOP_MAX = 12;

export class CborReader {
  pos = 0;
  /** Major type of the last head read. */
  major = 0;
  /** Argument of the last head: the value, length or count; the simple value for major 7. */
  arg = 0;

  constructor(readonly bytes: Uint8Array) {}

  /**
   * Reads one head into `major` and `arg`. Lengths and counts are checked against the bytes left
   * before anyone can allocate from them: an item takes at least one byte, an entry two.
   */
  readHead(): void {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) throw new CborSyntaxError('unexpected end of input');
    const initial = bytes[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info >= 28) {
      throw new CborSyntaxError(info === 31 ? 'indefinite length or break' : 'reserved encoding');
    }
    this.major = major;
    if (major === MAJOR_SIMPLE) {
      if (info >= 25) throw new CborSyntaxError('floats are not allowed');
      if (info === 23) throw new CborSyntaxError('undefined is not allowed');
      if (info < SIMPLE_FALSE || info === 24) throw new CborSyntaxError('unsupported simple value');
      this.arg = info;
      return;
    }
    if (major === MAJOR_TAG) throw new CborSyntaxError('tags are not allowed');
    const arg = info < 24 ? info : this.readArgument(info);
    this.arg = arg;
    const left = bytes.length - this.pos;
    if (major === MAJOR_NINT && arg === Number.MAX_SAFE_INTEGER) {
      throw new CborSyntaxError('integer below Number.MIN_SAFE_INTEGER');
    }
    if ((major === MAJOR_BSTR || major === MAJOR_TSTR) && arg > left) {
      throw new CborSyntaxError(`string of ${arg} bytes with ${left} left`);
    }
    if (major === MAJOR_ARRAY && arg > left) {
      throw new CborSyntaxError(`array of ${arg} items with ${left} bytes left`);
    }
    if (major === MAJOR_MAP && arg > left / 2) {
      throw new CborSyntaxError(`map of ${arg} entries with ${left} bytes left`);
    }
  }

  /** The byte string whose head was just read, as a view of the input (see decodeWithSchema). */
  byteString(): Uint8Array {
    const bytes = this.bytes;
    const start = this.pos;
    this.pos += this.arg;
    return new Uint8Array(bytes.buffer, bytes.byteOffset + start, this.arg);
  }

  /** The text string whose head was just read; invalid UTF-8 is refused, not replaced. */
  text(): string {
    const bytes = this.bytes;
    const start = this.pos;
    const end = start + this.arg;
    this.pos = end;
    if (this.arg <= ASCII_LOOP_MAX) {
      let s = '';
      for (let i = start; i < end; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return decodeUtf8(bytes, start, end);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decodeUtf8(bytes, start, end);
  }

  /** Refuses a container opened at `depth` (the top-level map is depth 1) beyond MAX_DEPTH. */
  enter(depth: number): void {
    if (depth > MAX_DEPTH) throw new CborSyntaxError(`nesting deeper than ${MAX_DEPTH}`);
  }

  /** Skips one whole item, checking that it is well-formed and inside the subset. */
  skip(depth: number): void {
    this.readHead();
    this.skipBody(depth);
  }

  /** Skips what follows the head just read. */
  skipBody(depth: number): void {
    switch (this.major) {
      case MAJOR_BSTR:
        this.pos += this.arg;
        return;
      case MAJOR_TSTR:
        this.text();
        return;
      case MAJOR_ARRAY: {
        this.enter(depth);
        const count = this.arg;
        for (let i = 0; i < count; i++) this.skip(depth + 1);
        return;
      }
      case MAJOR_MAP:
        this.enter(depth);
        this.skipMap(this.arg, depth);
    }
  }

  /**
   * Reads a map key for duplicate detection: integers, text, booleans and null compare by value;
   * byte strings, arrays and maps never compare equal (cborg's Map-based check behaved the same).
   */
  private comparableKey(depth: number): unknown {
    this.readHead();
    switch (this.major) {
      case MAJOR_UINT:
        return this.arg;
      case MAJOR_NINT:
        return -1 - this.arg;
      case MAJOR_TSTR:
        return this.text();
      case MAJOR_SIMPLE:
        return this.arg === SIMPLE_NULL ? null : this.arg === SIMPLE_TRUE;
      default:
        this.skipBody(depth);
        return UNCOMPARABLE_KEY;
    }
  }

  /** Throws unless the whole input has been read. */
  expectEnd(): void {
    const left = this.bytes.length - this.pos;
    if (left !== 0) throw new CborSyntaxError(`${left} trailing bytes after the message`);
  }

  /**
   * Skips one entry of a map at `depth`, key and value, refusing a key already in `keys`.
   * Only entries nobody asked for come here (unknown keys), so a Set per map is affordable; it is
   * made on the first comparable key and returned for the map's next entry.
   */
  skipEntry(keys: Set<unknown> | undefined, depth: number): Set<unknown> | undefined {
    const key = this.comparableKey(depth + 1);
    if (key !== UNCOMPARABLE_KEY) {
      keys ??= new Set();
      if (keys.has(key)) throw new CborSyntaxError(`duplicate map key ${String(key)}`);
      keys.add(key);
    }
    this.skip(depth + 1);
    return keys;
  }

  private skipMap(count: number, depth: number): void {
    let keys: Set<unknown> | undefined;
    for (let i = 0; i < count; i++) keys = this.skipEntry(keys, depth);
  }

  private readArgument(info: number): number {
    const bytes = this.bytes;
    const p = this.pos;
    const size = 1 << (info - 24);
    if (p + size > bytes.length) throw new CborSyntaxError('unexpected end of input');
    this.pos = p + size;
    if (size === 1) return bytes[p]!;
    if (size === 2) return (bytes[p]! << 8) | bytes[p + 1]!;
    const high = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8)) >>> 0;
    const word = high + bytes[p + 3]!;
    if (size === 4) return word;
    // 8 bytes: `word` is the high half. Above 2^53 - 1 a JS number would silently round.
    if (word > 0x1fffff) throw new CborSyntaxError('integer above Number.MAX_SAFE_INTEGER');
    const low =
      ((bytes[p + 4]! << 24) | (bytes[p + 5]! << 16) | (bytes[p + 6]! << 8) | bytes[p + 7]!) >>> 0;
    return word * 0x1_0000_0000 + low;
  }
}

function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  try {
    return fatalUtf8.decode(bytes.subarray(start, end));
  } catch {
    throw new CborSyntaxError('invalid UTF-8 in a text string');
  }
}
