import { DerProblem, type Tlv } from './derReader.js';
import { decodeOid } from './oid.js';
import { TAG } from './derTags.js';

/**
 * Decoders for the values of primitive elements, as strict as DER: an INTEGER with a redundant
 * leading byte, a BOOLEAN other than 00/FF or a BIT STRING with set padding bits is refused,
 * because two encodings of one value would let a signed object change bytes without changing
 * meaning.
 */

/** The content octets of `tlv` (a view, not a copy). */
export function valueOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.valueStart, tlv.end);
}

/** The whole element, tag and length included (a view, not a copy). */
export function rawOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

/** An INTEGER's two's-complement content, checked to be minimally encoded. */
export function integerBytes(buf: Uint8Array, tlv: Tlv): Uint8Array | DerProblem {
  const v = valueOf(buf, tlv);
  if (v.length === 0) return new DerProblem('empty INTEGER', tlv.start);
  if (v.length > 1) {
    const a = v[0]!;
    const b = v[1]!;
    if ((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80)) {
      return new DerProblem('INTEGER not minimally encoded', tlv.start);
    }
  }
  return v;
}

/** A small non-negative INTEGER (a version number), or a problem when it is not one. */
export function smallInteger(buf: Uint8Array, tlv: Tlv): number | DerProblem {
  const v = integerBytes(buf, tlv);
  if (v instanceof DerProblem) return v;
  if (v.length > 4 || v[0]! >= 0x80) return new DerProblem('INTEGER out of range', tlv.start);
  let n = 0;
  for (const byte of v) n = n * 256 + byte;
  return n;
}

/** Bit length of a positive INTEGER (an RSA modulus), or a problem when it is not positive. */
export function positiveIntegerBits(buf: Uint8Array, tlv: Tlv): number | DerProblem {
  let v = integerBytes(buf, tlv);
  if (v instanceof DerProblem) return v;
  if (v[0]! >= 0x80) return new DerProblem('INTEGER is negative', tlv.start);
  if (v[0] === 0) v = v.subarray(1);
  if (v.length === 0) return new DerProblem('INTEGER is zero', tlv.start);
  return (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
}

/** A BIT STRING's bytes when it holds whole octets (keys, signatures); refuses padding bits. */
export function octetAlignedBits(buf: Uint8Array, tlv: Tlv): Uint8Array | DerProblem {
  const v = valueOf(buf, tlv);
  if (v.length === 0) return new DerProblem('empty BIT STRING', tlv.start);
  if (v[0] !== 0) return new DerProblem('BIT STRING is not a whole number of octets', tlv.start);
  return v.subarray(1);
}

/** A DER BOOLEAN: exactly one octet, 00 or FF. */
export function booleanValue(buf: Uint8Array, tlv: Tlv): boolean | DerProblem {
  const v = valueOf(buf, tlv);
  if (v.length !== 1 || (v[0] !== 0x00 && v[0] !== 0xff)) {
    return new DerProblem('BOOLEAN not DER (must be one octet 00 or FF)', tlv.start);
  }
  return v[0] === 0xff;
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oidValue(buf: Uint8Array, tlv: Tlv): string | DerProblem {
  const oid = decodeOid(valueOf(buf, tlv));
  return oid ?? new DerProblem('malformed OBJECT IDENTIFIER', tlv.start);
}

/** A NULL: no content. */
export function nullValue(tlv: Tlv): null | DerProblem {
  return tlv.end === tlv.valueStart ? null : new DerProblem('NULL with content', tlv.start);
}

// ignoreBOM keeps a leading U+FEFF: dropped, a CN of BOM + registration ID would read as equal.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A UTF8String, PrintableString or IA5String as text; other string types are refused. */
export function stringValue(buf: Uint8Array, tlv: Tlv): string | DerProblem {
  const v = valueOf(buf, tlv);
  switch (tlv.tag) {
    case TAG.UTF8_STRING:
      try {
        return utf8.decode(v);
      } catch {
        return new DerProblem('UTF8String is not valid UTF-8', tlv.start);
      }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING: {
      for (const byte of v) {
        if (byte > 0x7f) return new DerProblem('non-ASCII byte in an ASCII string', tlv.start);
      }
      const text = Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
      if (tlv.tag === TAG.PRINTABLE_STRING && !PRINTABLE.test(text)) {
        return new DerProblem('character not allowed in PrintableString', tlv.start);
      }
      return text;
    }
    default:
      return new DerProblem(`unsupported string type 0x${tlv.tag.toString(16)}`, tlv.start);
  }
}
