import { encodeOid } from './oid.js';
import { contextConstructed, contextPrimitive, TAG } from './derTags.js';

/**
 * DER encoders. Each returns one complete element as a fresh Buffer, so callers can nest them
 * (`sequence(oid(...), octetString(...))`) and precompute constant pieces once. Lengths always
 * use the shortest form, as DER requires.
 */

/** The length octets for a value of `n` bytes. */
export function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  if (n < 0x1000000) return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  throw new Error(`DER element of ${n} bytes is larger than the station ever writes`);
}

/** Number of length octets `encodeLength(n)` produces. */
function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4;
}

/** An element with `tag` whose value is the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(1 + lengthSize(length) + length);
  out[0] = tag;
  let at = 1;
  out.set(encodeLength(length), at);
  at += lengthSize(length);
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SEQUENCE of the given elements. */
export const sequence = (...elements: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...elements);

/** SET of the given elements (written in the order given; sort first for a SET OF). */
export const set = (...elements: Uint8Array[]): Buffer => tlv(TAG.SET, ...elements);

/** `[n]` EXPLICIT around the given elements. */
export const explicit = (n: number, ...elements: Uint8Array[]): Buffer =>
  tlv(contextConstructed(n), ...elements);

/** `[n]` IMPLICIT over a primitive value (its content octets). */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer =>
  tlv(contextPrimitive(n), content);

/**
 * A positive INTEGER from big-endian magnitude bytes (a serial number, an RSA modulus):
 * redundant leading zeros go, and a zero is prepended when the top bit would read as negative.
 */
export function integerFromBytes(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  if (trimmed.length === 0) return tlv(TAG.INTEGER, Uint8Array.of(0));
  return trimmed[0]! >= 0x80
    ? tlv(TAG.INTEGER, Uint8Array.of(0), trimmed)
    : tlv(TAG.INTEGER, trimmed);
}

/** A small non-negative INTEGER such as a version number. */
export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new Error(`bad small integer ${n}`);
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return integerFromBytes(Uint8Array.from(bytes));
}

/** OBJECT IDENTIFIER from dotted form. */
export const oid = (dotted: string): Buffer => tlv(TAG.OID, encodeOid(dotted));

/** BIT STRING of whole octets, or with `unusedBits` of padding (which must already be zero). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new Error(`bad BIT STRING padding ${unusedBits}`);
  }
  const last = bytes[bytes.length - 1] ?? 0;
  if ((last & ((1 << unusedBits) - 1)) !== 0) throw new Error('BIT STRING padding bits not zero');
  return tlv(TAG.BIT_STRING, Uint8Array.of(unusedBits), bytes);
}

/** OCTET STRING. */
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, bytes);

/** BOOLEAN, DER form (FF for true). */
export const boolean = (value: boolean): Buffer =>
  tlv(TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0));

/** NULL. */
export const nullElement = (): Buffer => tlv(TAG.NULL);

/** UTF8String. */
export const utf8String = (text: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));

/** PrintableString; throws on characters outside its set. */
export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new Error('not a PrintableString');
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** IA5String (ASCII); throws on other characters. */
export const ia5String = (text: string): Buffer => tlv(TAG.IA5_STRING, ia5Bytes(text));

/** The content octets of an IA5String: ASCII only, for implicitly tagged names (dNSName, URI). */
export function ia5Bytes(text: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) throw new Error('not an IA5String (ASCII only)');
  }
  return Buffer.from(text, 'latin1');
}
