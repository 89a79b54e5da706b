import { DerCursor, DerProblem, isProblem, type Tlv } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { oidValue, stringValue } from '../der/derValues.js';
import { OID } from './oids.js';

/** The common name(s) found in an X.501 Name. */
export interface CommonNameReading {
  /** How many CN attributes the Name holds, in any RDN. */
  count: number;
  /** The CN text, only when there is exactly one and it is a UTF8String or PrintableString. */
  value: string | undefined;
}

/** One AttributeTypeAndValue of a Name: its type, and its value undecoded. */
export interface NameAttribute {
  type: string;
  value: Tlv;
}

/**
 * Walks the RDNs of a Name between `start` and `end` (SEQUENCE OF RelativeDistinguishedName,
 * each a non-empty SET OF AttributeTypeAndValue), checking its structure. Returns the attributes
 * of each RDN in order; what a value means is the caller's to decide.
 */
export function readNameAttributes(
  buf: Uint8Array,
  start: number,
  end: number,
): NameAttribute[][] | DerProblem {
  const rdns = new DerCursor(buf, start, end);
  const out: NameAttribute[][] = [];
  while (!rdns.done) {
    const rdn = rdns.next(TAG.SET);
    if (isProblem(rdn)) return rdn;
    if (rdn.end === rdn.valueStart)
      return new DerProblem('empty RelativeDistinguishedName', rdn.start);
    const attributes = new DerCursor(buf, rdn.valueStart, rdn.end);
    const rdnAttributes: NameAttribute[] = [];
    while (!attributes.done) {
      const atv = attributes.next(TAG.SEQUENCE);
      if (isProblem(atv)) return atv;
      const fields = new DerCursor(buf, atv.valueStart, atv.end);
      const typeTlv = fields.next(TAG.OID);
      if (isProblem(typeTlv)) return typeTlv;
      const type = oidValue(buf, typeTlv);
      if (isProblem(type)) return type;
      const value = fields.nextAny();
      if (isProblem(value)) return value;
      const extra = fields.finish();
      if (extra) return extra;
      rdnAttributes.push({ type, value });
    }
    out.push(rdnAttributes);
  }
  return out;
}

/**
 * Walks a Name, checking its structure, and picks out the CN. Values of other attributes are
 * not decoded: the station never copies them into a certificate.
 */
export function readCommonName(buf: Uint8Array, name: Tlv): CommonNameReading | DerProblem {
  const rdns = DerCursor.inside(buf, name);
  if (isProblem(rdns)) return rdns;
  const attributes = readNameAttributes(buf, name.valueStart, name.end);
  if (isProblem(attributes)) return attributes;
  let count = 0;
  let value: string | undefined;
  for (const { type, value: valueTlv } of attributes.flat()) {
    if (type !== OID.commonName) continue;
    count++;
    if (valueTlv.tag === TAG.UTF8_STRING || valueTlv.tag === TAG.PRINTABLE_STRING) {
      const text = stringValue(buf, valueTlv);
      if (isProblem(text)) return text;
      value = text;
    }
  }
  return { count, value: count === 1 ? value : undefined };
}
