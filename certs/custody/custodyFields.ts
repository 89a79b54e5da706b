import { CertError } from '../certErrors.js';

/**
 * Strict readers for the fields of custody JSON files. Those files come back from disk, so every
 * field is untrusted: anything missing, mistyped, oddly encoded or of the wrong length means the
 * file was damaged (or edited), and is reported as CUSTODY_KEY_FILE_CORRUPT, never as a crash.
 */

/** A CUSTODY_KEY_FILE_CORRUPT error; `detail` names the field, never a value. */
export function keyFileCorrupt(detail: string, cause?: unknown): CertError {
  return new CertError('CUSTODY_KEY_FILE_CORRUPT', detail, { cause });
}

/** The value as a plain JSON object, or CUSTODY_KEY_FILE_CORRUPT. */
export function objectField(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw keyFileCorrupt(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function stringField(obj: Record<string, unknown>, name: string, maxLength = 4096): string {
  const value = obj[name];
  if (typeof value !== 'string' || value.length > maxLength) {
    throw keyFileCorrupt(`field "${name}" is missing or not a string`);
  }
  return value;
}

export function integerField(
  obj: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number {
  const value = obj[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw keyFileCorrupt(`field "${name}" is missing or outside ${min}..${max}`);
  }
  return value;
}

// Canonical padded base64 only: Buffer.from(s, 'base64') silently skips junk characters, which
// would turn a damaged file into wrong bytes instead of an error.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A base64 field decoded to bytes. `length` is exact, or `[min, max]`. The caller owns the
 * returned buffer (and zeroes it if it is secret).
 */
export function base64Field(
  obj: Record<string, unknown>,
  name: string,
  length: number | readonly [number, number],
): Buffer {
  const text = stringField(obj, name, 1 << 20);
  const bytes = BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
  // Re-encoding catches non-zero padding bits, which the regex lets through.
  if (bytes === undefined || bytes.toString('base64') !== text) {
    throw keyFileCorrupt(`field "${name}" is not valid base64`);
  }
  const [min, max] = typeof length === 'number' ? [length, length] : length;
  if (bytes.length < min || bytes.length > max) {
    throw keyFileCorrupt(`field "${name}" has ${bytes.length} bytes, expected ${min}..${max}`);
  }
  return bytes;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
