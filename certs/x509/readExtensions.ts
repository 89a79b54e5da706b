import { DerCursor, DerProblem, isProblem, type Tlv } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { booleanValue, oidValue, valueOf } from '../der/derValues.js';

/** One Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export interface ExtensionReading {
  oid: string;
  critical: boolean;
  /** The extnValue contents: the DER of the extension's own value. */
  value: Uint8Array;
}

/**
 * Reads a SEQUENCE OF Extension. DER omits a DEFAULT value, so an explicit `critical FALSE` is
 * refused, as is a second extension with the same OID (RFC 5280 4.2).
 *
 * `explicitCriticalFalse` reads a `critical` written out as FALSE as the FALSE it says, and
 * nothing else changes. Only TPM vendor certificates use it: Intel PTT EK certificates from
 * Intel's EK certificate service write `01 01 00` on their non-critical extensions (keylime
 * issue #1027), as do AMD fTPM ones (RustCrypto/formats issue #1584), and nobody can have a
 * chip's certificate reissued. Device CSRs and the station CA keep the strict reading.
 */
export function readExtensions(
  buf: Uint8Array,
  list: Tlv,
  options: { explicitCriticalFalse?: boolean } = {},
): ExtensionReading[] | DerProblem {
  const items = DerCursor.inside(buf, list);
  if (isProblem(items)) return items;
  const out: ExtensionReading[] = [];
  while (!items.done) {
    const ext = items.next(TAG.SEQUENCE);
    if (isProblem(ext)) return ext;
    const fields = new DerCursor(buf, ext.valueStart, ext.end);
    const idTlv = fields.next(TAG.OID);
    if (isProblem(idTlv)) return idTlv;
    const oid = oidValue(buf, idTlv);
    if (isProblem(oid)) return oid;
    let critical = false;
    if (fields.peekTag() === TAG.BOOLEAN) {
      const flagTlv = fields.next(TAG.BOOLEAN);
      if (isProblem(flagTlv)) return flagTlv;
      const flag = booleanValue(buf, flagTlv);
      if (isProblem(flag)) return flag;
      if (!flag && options.explicitCriticalFalse !== true) {
        return new DerProblem('critical FALSE must be omitted in DER', flagTlv.start);
      }
      critical = flag;
    }
    const valueTlv = fields.next(TAG.OCTET_STRING);
    if (isProblem(valueTlv)) return valueTlv;
    const extra = fields.finish();
    if (extra) return extra;
    if (out.some((e) => e.oid === oid))
      return new DerProblem(`extension ${oid} appears twice`, ext.start);
    out.push({ oid, critical, value: valueOf(buf, valueTlv) });
  }
  return out;
}
