import { DerCursor, DerProblem, isProblem, readWhole } from '../der/derReader.js';
import { contextConstructed, contextPrimitive, TAG } from '../der/derTags.js';
import { decodeTime } from '../der/derTime.js';
import { integerBytes, octetAlignedBits, oidValue, rawOf, smallInteger } from '../der/derValues.js';
import { readCommonName, type CommonNameReading } from './readName.js';
import { readExtensions, type ExtensionReading } from './readExtensions.js';
import { readSpki, type SpkiReading } from './readSpki.js';

/**
 * An X.509 v3 certificate read in place with the strict DER reader: what the leaf template
 * needs from the issuing CA (subject, key, key identifier, validity) and what tests need to
 * re-read the leaves the station writes. Byte fields are views into the given DER.
 */
export interface CertificateReading {
  /** The TBSCertificate element, raw: the signed bytes. */
  tbs: Uint8Array;
  /** 0 for v1 (version absent), 2 for v3. */
  version: number;
  /** serialNumber INTEGER content octets, as encoded (a leading 00 kept when present). */
  serialNumber: Uint8Array;
  /** The signature AlgorithmIdentifier inside the TBS, raw. */
  tbsSignatureAlgorithm: Uint8Array;
  issuer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Uint8Array;
  commonName: CommonNameReading;
  spki: SpkiReading;
  extensions: ExtensionReading[];
  /** The outer signatureAlgorithm: its OID, and the element raw. */
  signatureAlgorithm: { oid: string; raw: Uint8Array };
  signature: Uint8Array;
}

/** Reads a DER certificate; returns a DerProblem instead of throwing. */
export function readCertificate(der: Uint8Array): CertificateReading | DerProblem {
  const cert = readWhole(der, TAG.SEQUENCE);
  if (isProblem(cert)) return cert;
  const top = new DerCursor(der, cert.valueStart, cert.end);
  const tbsTlv = top.next(TAG.SEQUENCE);
  if (isProblem(tbsTlv)) return tbsTlv;
  const sigAlgTlv = top.next(TAG.SEQUENCE);
  if (isProblem(sigAlgTlv)) return sigAlgTlv;
  const sigTlv = top.next(TAG.BIT_STRING);
  if (isProblem(sigTlv)) return sigTlv;
  const topExtra = top.finish();
  if (topExtra) return topExtra;
  const signature = octetAlignedBits(der, sigTlv);
  if (isProblem(signature)) return signature;
  const sigAlgOid = new DerCursor(der, sigAlgTlv.valueStart, sigAlgTlv.end).next(TAG.OID);
  if (isProblem(sigAlgOid)) return sigAlgOid;
  const sigOid = oidValue(der, sigAlgOid);
  if (isProblem(sigOid)) return sigOid;

  const tbs = new DerCursor(der, tbsTlv.valueStart, tbsTlv.end);
  let version = 0;
  if (tbs.peekTag() === contextConstructed(0)) {
    const wrapper = tbs.next(contextConstructed(0));
    if (isProblem(wrapper)) return wrapper;
    const inner = new DerCursor(der, wrapper.valueStart, wrapper.end);
    const versionTlv = inner.next(TAG.INTEGER);
    if (isProblem(versionTlv)) return versionTlv;
    const v = smallInteger(der, versionTlv);
    if (isProblem(v)) return v;
    version = v;
  }
  const serialTlv = tbs.next(TAG.INTEGER);
  if (isProblem(serialTlv)) return serialTlv;
  const serialNumber = integerBytes(der, serialTlv);
  if (isProblem(serialNumber)) return serialNumber;
  const innerSigAlg = tbs.next(TAG.SEQUENCE);
  if (isProblem(innerSigAlg)) return innerSigAlg;
  const issuer = tbs.next(TAG.SEQUENCE);
  if (isProblem(issuer)) return issuer;
  const validity = tbs.next(TAG.SEQUENCE);
  if (isProblem(validity)) return validity;
  const times = new DerCursor(der, validity.valueStart, validity.end);
  const notBeforeTlv = times.nextAny();
  if (isProblem(notBeforeTlv)) return notBeforeTlv;
  const notAfterTlv = times.nextAny();
  if (isProblem(notAfterTlv)) return notAfterTlv;
  const timesExtra = times.finish();
  if (timesExtra) return timesExtra;
  const notBefore = decodeTime(der, notBeforeTlv);
  if (isProblem(notBefore)) return notBefore;
  const notAfter = decodeTime(der, notAfterTlv);
  if (isProblem(notAfter)) return notAfter;
  const subject = tbs.next(TAG.SEQUENCE);
  if (isProblem(subject)) return subject;
  const commonName = readCommonName(der, subject);
  if (isProblem(commonName)) return commonName;
  const spkiTlv = tbs.next(TAG.SEQUENCE);
  if (isProblem(spkiTlv)) return spkiTlv;
  const spki = readSpki(der, spkiTlv);
  if (isProblem(spki)) return spki;
  let extensions: ExtensionReading[] = [];
  // issuerUniqueID [1] and subjectUniqueID [2] are never written by a sane CA; they are refused,
  // by name, so the refusal of an imported CA says what to have re-issued.
  const uniqueId = tbs.peekTag();
  if (uniqueId === contextPrimitive(1) || uniqueId === contextPrimitive(2)) {
    const which = uniqueId === contextPrimitive(1) ? 'issuerUniqueID' : 'subjectUniqueID';
    return new DerProblem(`${which} is not allowed (RFC 5280 4.1.2.8)`, spkiTlv.end);
  }
  if (tbs.peekTag() === contextConstructed(3)) {
    const wrapper = tbs.next(contextConstructed(3));
    if (isProblem(wrapper)) return wrapper;
    const inner = new DerCursor(der, wrapper.valueStart, wrapper.end);
    const list = inner.next(TAG.SEQUENCE);
    if (isProblem(list)) return list;
    const listExtra = inner.finish();
    if (listExtra) return listExtra;
    const read = readExtensions(der, list);
    if (isProblem(read)) return read;
    extensions = read;
  }
  const tbsExtra = tbs.finish();
  if (tbsExtra) return tbsExtra;

  return {
    tbs: rawOf(der, tbsTlv),
    version,
    serialNumber,
    tbsSignatureAlgorithm: rawOf(der, innerSigAlg),
    issuer: rawOf(der, issuer),
    notBefore,
    notAfter,
    subject: rawOf(der, subject),
    commonName,
    spki,
    extensions,
    signatureAlgorithm: { oid: sigOid, raw: rawOf(der, sigAlgTlv) },
    signature,
  };
}
