import { createHmac } from 'node:crypto';
import { concat, u32 } from './tpmBytes.js';

/**
 * KDFa (TPM 2.0 Part 1, 11.4.10.2): SP800-108 in counter mode with HMAC. Each block is
 * HMAC(key, i || label || 0x00 || contextU || contextV || bits), i and bits as UINT32
 * big-endian; the label's terminating zero is part of the input, as the TPM writes it.
 * Whole bytes only: every key the identity key blob needs is.
 */
export function kdfa(
  hash: 'sha256',
  key: Uint8Array,
  label: string,
  contextU: Uint8Array,
  contextV: Uint8Array,
  bits: number,
): Uint8Array {
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0 || bits > 0x1_0000) {
    throw new RangeError(`KDFa of ${bits} bits: whole bytes up to 8 KB only`);
  }
  const fixed = concat(Buffer.from(`${label}\0`, 'latin1'), contextU, contextV, u32(bits));
  const blocks: Uint8Array[] = [];
  let produced = 0;
  for (let i = 1; produced < bits / 8; i++) {
    const block = createHmac(hash, key).update(u32(i)).update(fixed).digest();
    blocks.push(block);
    produced += block.length;
  }
  return concat(...blocks).subarray(0, bits / 8);
}
