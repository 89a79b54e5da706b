import { DerCursor, DerProblem, isProblem, type Tlv } from '../der/derReader.js';
import { rawOf, stringValue, valueOf } from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { readNameAttributes } from '../x509/readName.js';
import { VENDOR_OID } from './vendorOids.js';

/** An X.501 Name as the EK checks use it. */
export interface NameReading {
  /**
   * For people: the CN (e.g. "Infineon OPTIGA(TM) RSA Root CA"), else `O=…, C=…`; '' if empty.
   */
  label: string;
  /**
   * For matching an issuer to a subject: the attributes in order, values compared as RFC 5280
   * 7.1 suggests (case and runs of spaces ignored), so a vendor that writes its name as a
   * PrintableString in one certificate and a UTF8String in the next is still found. Matching
   * only picks candidates; every link is then proven by its signature.
   */
  key: string;
}

const SHORT_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  [VENDOR_OID.countryName]: 'C',
  [VENDOR_OID.localityName]: 'L',
  [VENDOR_OID.stateOrProvinceName]: 'ST',
  [VENDOR_OID.organizationName]: 'O',
  [VENDOR_OID.organizationalUnitName]: 'OU',
};

const BMP_STRING = 0x1e;
const TELETEX_STRING = 0x14;

/** Reads a Name (SEQUENCE OF non-empty SET OF AttributeTypeAndValue). */
export function readName(buf: Uint8Array, name: Tlv): NameReading | DerProblem {
  const inside = DerCursor.inside(buf, name);
  if (isProblem(inside)) return inside;
  const rdns = readNameAttributes(buf, name.valueStart, name.end);
  if (isProblem(rdns)) return rdns;
  const keyParts: [string, string][][] = [];
  const labelParts: string[] = [];
  const commonNames: string[] = [];
  const organisation: string[] = [];
  for (const attributes of rdns) {
    const rdnKey: [string, string][] = [];
    for (const { type, value: valueTlv } of attributes) {
      const text = attributeText(buf, valueTlv);
      rdnKey.push([type, text.replace(/\s+/g, ' ').trim().toLowerCase()]);
      labelParts.push(`${SHORT_NAMES[type] ?? type}=${text}`);
      if (type === OID.commonName) commonNames.push(text);
      if (type === VENDOR_OID.organizationName || type === VENDOR_OID.organizationalUnitName) {
        organisation.push(text);
      }
    }
    // A multi-valued RDN is a set: its order carries no meaning.
    keyParts.push(rdnKey.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return { label: labelOf(commonNames, organisation, labelParts), key: JSON.stringify(keyParts) };
}

/**
 * The CN; a CN with no space in it (Intel names its CAs "www.intel.com") gets the organisation
 * and unit beside it, so a chain of such CAs still reads as something.
 */
function labelOf(commonNames: string[], organisation: string[], others: string[]): string {
  const cn = commonNames.join(' + ');
  if (cn === '') return others.join(', ');
  return /\s/.test(cn) || organisation.length === 0 ? cn : `${cn} (${organisation.join(', ')})`;
}

/** An attribute value as text; a type the station does not decode is shown as #hex (RFC 4514). */
function attributeText(buf: Uint8Array, value: Tlv): string {
  const bytes = valueOf(buf, value);
  if (value.tag === BMP_STRING && bytes.length % 2 === 0) {
    return Buffer.from(bytes).swap16().toString('utf16le');
  }
  if (value.tag === TELETEX_STRING) return Buffer.from(bytes).toString('latin1');
  const text = stringValue(buf, value);
  return isProblem(text) ? `#${Buffer.from(rawOf(buf, value)).toString('hex')}` : text;
}
