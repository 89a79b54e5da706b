import { DerCursor, isProblem, readWhole, type DerProblem } from '../der/derReader.js';
import { contextConstructed, TAG } from '../der/derTags.js';
import { oidValue, rawOf, stringValue } from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { readNameAttributes } from '../x509/readName.js';
import type { EkPublic } from './tpmPublic.js';
import type { VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

/**
 * What makes a certificate an EK certificate rather than any certificate a vendor CA signed
 * (TCG EK Credential Profile for TPM Family 2.0, 3.2): the TCG markers, and a keyUsage that
 * lets the key do what an EK does. Vendor CAs and the CAs a supervisor adds may sign other
 * end-entity certificates (platform, TLS, code signing); a key that matches the EK proves the
 * key, not that the vendor vouched for it as a TPM's.
 */

/** The TPM an EK certificate names in its subjectAltName, as the certificate writes it. */
export interface TpmIdentity {
  /** tcg-at-tpmManufacturer, e.g. "id:49465800" (IFX) */
  manufacturer?: string;
  /** tcg-at-tpmModel, e.g. "SLB 9670 TPM2.0" */
  model?: string;
  /** tcg-at-tpmVersion: the firmware version, e.g. "id:0755" */
  version?: string;
}

/** What an EK of each type must be allowed to do: RSA EKs decrypt, ECC EKs agree keys. */
const EK_KEY_USAGE = { rsa: 'keyEncipherment', ecc: 'keyAgreement' } as const;

/**
 * Why `cert` is not an EK certificate for an EK of `ekType`, or undefined when it is:
 *
 * - It must carry a TCG marker: the extended key usage tcg-kp-EKCertificate, or a
 *   subjectAltName directoryName holding tcg-at-tpmManufacturer. Vendors' EK certificates carry
 *   the SAN, many the EKU as well (swtpm's both); either suffices. A marker extension that
 *   cannot be read counts as absent (and the reason says so), so an odd encoding of one marker
 *   does not refuse a certificate that carries the other.
 * - When it has an extended key usage that can be read, that must allow tcg-kp-EKCertificate
 *   (or any usage): a vendor CA that limited the key to other uses (TLS, code signing) did not
 *   vouch for it as an EK, whatever TPM its subjectAltName names.
 * - When it has a keyUsage, that must allow keyEncipherment (RSA) or keyAgreement (ECC).
 *   Signing uses alone mark a signing key, which an EK never is.
 */
export function notAnEkCertificate(
  cert: VendorCertificate,
  ekType: EkPublic['type'],
): string | undefined {
  const usages = extendedKeyUsages(cert);
  const tpm = tpmAttributes(cert);
  const ekUsage = Array.isArray(usages) && usages.includes(VENDOR_OID.ekCertificate);
  const tpmNamed = !isProblem(tpm) && tpm?.manufacturer !== undefined;
  if (!ekUsage && !tpmNamed) {
    const eku =
      usages === undefined
        ? 'no extended key usage'
        : isProblem(usages)
          ? `an extended key usage that cannot be read (${usages.toString()})`
          : `extended key usage ${usages.length === 0 ? '(empty)' : usages.join(', ')}`;
    const san = isProblem(tpm)
      ? `a subjectAltName that cannot be read (${tpm.toString()})`
      : cert.extensions.some((e) => e.oid === OID.subjectAltName)
        ? 'a subjectAltName without a TPM manufacturer'
        : 'no subjectAltName';
    return (
      `it carries neither the TCG EK certificate extended key usage ` +
      `(${VENDOR_OID.ekCertificate}) nor a subjectAltName naming the TPM manufacturer ` +
      `(${VENDOR_OID.tpmManufacturer}): ${eku}; ${san}`
    );
  }
  if (
    Array.isArray(usages) &&
    usages.length > 0 &&
    !ekUsage &&
    !usages.includes(OID.anyExtendedKeyUsage)
  ) {
    return (
      `its extended key usage (${usages.join(', ')}) leaves out the TCG EK certificate usage ` +
      `(${VENDOR_OID.ekCertificate}): the issuer limited this key to other uses`
    );
  }
  const needed = EK_KEY_USAGE[ekType];
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes(needed)) {
    const allowed = cert.keyUsage.length === 0 ? 'nothing' : `${cert.keyUsage.join(', ')} only`;
    return `its keyUsage allows ${allowed}; the certificate of an ${ekType.toUpperCase()} EK must allow ${needed}`;
  }
  return undefined;
}

/**
 * The TPM manufacturer, model and version of the certificate's subjectAltName, when a
 * directoryName there holds any of them (the first that names a manufacturer, else the first
 * with any); undefined when none does or the extension cannot be read.
 */
export function tpmOfEkCertificate(cert: VendorCertificate): TpmIdentity | undefined {
  const found = tpmAttributes(cert);
  return isProblem(found) ? undefined : found;
}

function tpmAttributes(cert: VendorCertificate): TpmIdentity | undefined | DerProblem {
  const ext = cert.extensions.find((e) => e.oid === OID.subjectAltName);
  if (ext === undefined) return undefined;
  const v = ext.value;
  const whole = readWhole(v, TAG.SEQUENCE);
  if (isProblem(whole)) return whole;
  const names = new DerCursor(v, whole.valueStart, whole.end);
  let first: TpmIdentity | undefined;
  while (!names.done) {
    const name = names.nextAny();
    if (isProblem(name)) return name;
    // directoryName [4] is EXPLICIT (Name is a CHOICE); the other GeneralNames are not TPM's.
    if (name.tag !== contextConstructed(4)) continue;
    const inner = new DerCursor(v, name.valueStart, name.end);
    const directory = inner.next(TAG.SEQUENCE);
    if (isProblem(directory)) return directory;
    const extra = inner.finish();
    if (extra) return extra;
    const tpm = tpmOfName(v, directory.valueStart, directory.end);
    if (isProblem(tpm)) return tpm;
    if (tpm.manufacturer !== undefined) return tpm;
    if (first === undefined && Object.keys(tpm).length > 0) first = tpm;
  }
  return first;
}

const TPM_ATTRIBUTES: Record<string, keyof TpmIdentity> = {
  [VENDOR_OID.tpmManufacturer]: 'manufacturer',
  [VENDOR_OID.tpmModel]: 'model',
  [VENDOR_OID.tpmVersion]: 'version',
};

/**
 * The TPM attributes of a Name. Vendors write them as one multi-valued RDN or as three RDNs,
 * as UTF8String (the TCG's choice) or PrintableString; both are read.
 */
function tpmOfName(buf: Uint8Array, start: number, end: number): TpmIdentity | DerProblem {
  const tpm: TpmIdentity = {};
  const rdns = readNameAttributes(buf, start, end);
  if (isProblem(rdns)) return rdns;
  for (const { type, value } of rdns.flat()) {
    const field = TPM_ATTRIBUTES[type];
    if (field === undefined || tpm[field] !== undefined) continue;
    const text = stringValue(buf, value);
    // Kept for the record even when it is not a string type the station decodes (RFC 4514 #hex).
    tpm[field] = isProblem(text) ? `#${Buffer.from(rawOf(buf, value)).toString('hex')}` : text;
  }
  return tpm;
}

/** The extended key usage OIDs; undefined without the extension, a DerProblem when unreadable. */
function extendedKeyUsages(cert: VendorCertificate): string[] | undefined | DerProblem {
  const ext = cert.extensions.find((e) => e.oid === OID.extKeyUsage);
  if (ext === undefined) return undefined;
  const v = ext.value;
  const whole = readWhole(v, TAG.SEQUENCE);
  if (isProblem(whole)) return whole;
  const items = new DerCursor(v, whole.valueStart, whole.end);
  const oids: string[] = [];
  while (!items.done) {
    const item = items.next(TAG.OID);
    if (isProblem(item)) return item;
    const id = oidValue(v, item);
    if (isProblem(id)) return id;
    oids.push(id);
  }
  return oids;
}
