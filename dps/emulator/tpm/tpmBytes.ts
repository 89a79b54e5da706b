/**
 * TPM marshalling (TPM 2.0 Part 2: big-endian integers; a TPM2B is a UINT16 size, then that many
 * bytes). The reader is bounded by its input and by the maximum each TPM2B allows, so a hostile
 * size field can neither read past the input nor make the emulator allocate; every refusal goes
 * through the caller's `fail`, which names the field.
 */
export class TpmReader {
  private at = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (reason: string) => never,
  ) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.at;
  }

  u16(what: string): number {
    const b = this.take(2, what);
    return (b[0]! << 8) | b[1]!;
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return b[0]! * 0x100_0000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  }

  /** `n` bytes, as a view of the input. */
  take(n: number, what: string): Uint8Array {
    if (n > this.remaining) this.fail(`is truncated in ${what}`);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  /** A TPM2B's contents, refused when its size exceeds `max`. */
  sized(what: string, max: number): Uint8Array {
    const size = this.u16(`${what} size`);
    if (size > max) this.fail(`has a ${what} of ${size} bytes, more than its ${max}`);
    return this.take(size, what);
  }

  /** Refuses anything left after the last field. */
  finish(what: string): void {
    if (this.remaining !== 0) this.fail(`has ${this.remaining} bytes after ${what}`);
  }
}

export const EMPTY = new Uint8Array(0);

export function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

export function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A TPM2B around `bytes`. */
export function tpm2b(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0xffff) throw new RangeError(`${bytes.length} bytes do not fit a TPM2B`);
  return concat(u16(bytes.length), bytes);
}
