import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the zlib polynomial), as PROTOCOL.md §2.2 specifies. Node's zlib computes
 * it natively; devices use any table-driven implementation of the same polynomial.
 */
export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}
