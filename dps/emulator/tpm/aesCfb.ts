import { createCipheriv } from 'node:crypto';
import { concat } from './tpmBytes.js';

/**
 * AES in CFB mode with an all-zero IV, as the TPM protects credentials and duplicated objects:
 * full-block feedback (CFB-128), the key size choosing AES-128, -192 or -256.
 */
export function aesCfbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv(`aes-${key.length * 8}-cfb`, key, Buffer.alloc(16));
  return concat(cipher.update(data), cipher.final());
}
