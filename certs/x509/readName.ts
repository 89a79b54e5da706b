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

/**
 * Walks a Name (SEQUENCE OF RelativeDistinguishedName, each a non-empty SET OF
 * AttributeTypeAndValue), checking its structure, and picks out the CN. Values of other
 * attributes are not decoded: the station never copies them into a certificate.
 */
export function readCommonName(buf: Uint8Array, name: Tlv): CommonNameReading | DerProblem {
  const rdns = DerCursor.inside(buf, name);
  if (isProblem(rdns)) return rdns;
  let count = 0;
  let value: string | undefined;
  while (!rdns.done) {
    const rdn = rdns.next(TAG.SET);
    if (isProblem(rdn)) return rdn;
    if (rdn.end === rdn.valueStart)
      return new DerProblem('empty RelativeDistinguishedName', rdn.start);
    const attributes = new DerCursor(buf, rdn.valueStart, rdn.end);
    while (!attributes.done) {
      const atv = attributes.next(TAG.SEQUENCE);
      if (isProblem(atv)) return atv;
      const fields = new DerCursor(buf, atv.valueStart, atv.end);
      const typeTlv = fields.next(TAG.OID);
      if (isProblem(typeTlv)) return typeTlv;
      const type = oidValue(buf, typeTlv);
      if (isProblem(type)) return type;
      const valueTlv = fields.nextAny();
      if (isProblem(valueTlv)) return valueTlv;
      const extra = fields.finish();
      if (extra) return extra;
      if (type !== OID.commonName) continue;
      count++;
      if (valueTlv.tag === TAG.UTF8_STRING || valueTlv.tag === TAG.PRINTABLE_STRING) {
        const text = stringValue(buf, valueTlv);
        if (isProblem(text)) return text;
        value = text;
      }
    }
  }
  return { count, value: count === 1 ? value : undefined };
}
