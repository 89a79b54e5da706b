/**
 * Consistent Overhead Byte Stuffing. After encoding, 0x00 never occurs inside a frame, so a
 * receiver can always resynchronise at the next 0x00 (PROTOCOL.md §2.1).
 */

/** Worst-case encoded length of `n` body bytes, without the delimiter. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

/** Encodes `input` into `out` at `outOffset`; returns the number of bytes written. */
export function cobsEncodeInto(input: Uint8Array, out: Uint8Array, outOffset: number): number {
  let codeIndex = outOffset;
  let write = outOffset + 1;
  let code = 1;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 0) {
      out[codeIndex] = code;
      codeIndex = write++;
      code = 1;
      continue;
    }
    out[write++] = byte;
    code++;
    if (code === 0xff) {
      out[codeIndex] = code;
      codeIndex = write++;
      code = 1;
    }
  }
  out[codeIndex] = code;
  return write - outOffset;
}

export function cobsEncode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(input.length));
  const n = cobsEncodeInto(input, out, 0);
  return out.subarray(0, n);
}

/**
 * Decodes one COBS block (delimiter already removed). Returns null when the block is not valid
 * COBS: a zero byte inside it, or a code byte that points past the end.
 */
export function cobsDecode(input: Uint8Array, inLength = input.length): Uint8Array | null {
  const out = new Uint8Array(inLength);
  let read = 0;
  let write = 0;
  while (read < inLength) {
    const code = input[read]!;
    if (code === 0) return null;
    const end = read + code;
    if (end > inLength) return null;
    read++;
    while (read < end) {
      const byte = input[read++]!;
      if (byte === 0) return null;
      out[write++] = byte;
    }
    // A code of 0xFF means "254 data bytes, no zero follows"; the last block adds no zero either.
    if (code !== 0xff && read < inLength) out[write++] = 0;
  }
  return out.subarray(0, write);
}
