import { randomFillSync } from 'node:crypto';

/**
 * Serial numbers for leaves: 16 bytes from the CSPRNG with the top bit cleared (so the INTEGER
 * is positive without a 00 pad) and the first byte non-zero (so DER keeps all 16 bytes). Every
 * serial therefore encodes as exactly `02 10` + 16 bytes, and carries 127 bits minus a fraction
 * of entropy, well over the 64 the CA/Browser Forum asks for and the 120 this product wants.
 *
 * Random bytes are drawn in batches: one CSPRNG call per 256 serials instead of one each.
 */
const SERIAL_BYTES = 16;
const BATCH = 256;

let pool = Buffer.alloc(0);
let at = 0;

function take(n: number): Buffer {
  if (at + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(SERIAL_BYTES * BATCH));
    at = 0;
  }
  const out = Buffer.from(pool.subarray(at, at + n));
  // The pool keeps no copy of a serial once handed out.
  pool.fill(0, at, at + n);
  at += n;
  return out;
}

/** A fresh 16-byte serial number (magnitude bytes, first byte 0x01–0x7f). */
export function newSerialNumber(): Uint8Array {
  const serial = take(SERIAL_BYTES);
  serial[0]! &= 0x7f;
  // Redraw rather than force a value, so the first byte stays uniform over 1..127.
  while (serial[0] === 0) serial[0] = take(1)[0]! & 0x7f;
  return serial;
}
