import { DerCursor, DerProblem, isProblem, readWhole, type Tlv } from '../der/derReader.js';
import { contextConstructed, TAG } from '../der/derTags.js';
import { decodeTime } from '../der/derTime.js';
import {
  booleanValue,
  integerBytes,
  octetAlignedBits,
  oidValue,
  rawOf,
  smallInteger,
} from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { readExtensions, type ExtensionReading } from '../x509/readExtensions.js';
import { readName, type NameReading } from './certificateNames.js';

/**
 * A TPM vendor CA or EK certificate, read in place with the strict DER reader. Byte fields are
 * views into the given DER.
 *
 * Leniencies beyond ../x509/readCertificate.ts, because vendors ship them and the station
 * cannot ask them to reissue: a GeneralizedTime before 2050 (RFC 5280 wants UTCTime there; the
 * Aliyun TPM CA uses GeneralizedTime), and DEFAULT values written out where DER omits them: an
 * extension's `critical` FALSE (Intel PTT and AMD fTPM EK certificates; readExtensions.ts says
 * why) and basicConstraints cA FALSE (the same certificates). They change no signed byte:
 * signatures are checked over the TBSCertificate exactly as received. Unknown extensions,
 * critical or not (the TCG ones on EK certificates), are kept for the caller and never a reason
 * to refuse here.
 */
export interface VendorCertificate {
  der: Uint8Array;
  /** The TBSCertificate element, raw: the signed bytes. */
  tbs: Uint8Array;
  serialNumber: Uint8Array;
  issuer: NameReading;
  subject: NameReading;
  notBefore: Date;
  notAfter: Date;
  /** The SubjectPublicKeyInfo element, raw. */
  spki: Uint8Array;
  /** Its algorithm OID (rsaEncryption, id-ecPublicKey, or RSAES-OAEP on some EK certificates). */
  spkiAlgorithm: string;
  /** Contents of its BIT STRING: RSAPublicKey, or the EC point. */
  subjectPublicKey: Uint8Array;
  extensions: ExtensionReading[];
  /** basicConstraints, when present. */
  basicConstraints: { ca: boolean; pathLength: number | undefined } | undefined;
  /** Whether keyUsage allows keyCertSign; undefined when there is no keyUsage. */
  keyCertSign: boolean | undefined;
  /** The uses keyUsage allows, in bit order; undefined when there is no keyUsage. */
  keyUsage: KeyUsageName[] | undefined;
  /** The signatureAlgorithm: its OID, and its parameters element raw when there is one. */
  signatureAlgorithm: { oid: string; parameters: Uint8Array | undefined };
  signature: Uint8Array;
}

/** The named bits of KeyUsage (RFC 5280 4.2.1.3), bit 0 first. */
export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

/** Reads a DER certificate; returns a DerProblem instead of throwing. */
export function readVendorCertificate(der: Uint8Array): VendorCertificate | DerProblem {
  try {
    return read(der);
  } catch (err) {
    if (err instanceof DerProblem) return err;
    throw err;
  }
}

/** Unwraps a reading, throwing its DerProblem (caught at the one entry point above). */
function ok<T>(value: T | DerProblem): T {
  if (isProblem(value)) throw value;
  return value;
}

function read(der: Uint8Array): VendorCertificate {
  const cert = ok(readWhole(der, TAG.SEQUENCE));
  const top = new DerCursor(der, cert.valueStart, cert.end);
  const tbsTlv = ok(top.next(TAG.SEQUENCE));
  const sigAlgTlv = ok(top.next(TAG.SEQUENCE));
  const signature = ok(octetAlignedBits(der, ok(top.next(TAG.BIT_STRING))));
  problemIf(top.finish());

  const tbs = new DerCursor(der, tbsTlv.valueStart, tbsTlv.end);
  if (tbs.peekTag() === contextConstructed(0)) {
    const wrapper = ok(tbs.next(contextConstructed(0)));
    const inner = new DerCursor(der, wrapper.valueStart, wrapper.end);
    const version = ok(smallInteger(der, ok(inner.next(TAG.INTEGER))));
    problemIf(inner.finish());
    if (version > 2) throw new DerProblem(`certificate version ${version + 1}`, wrapper.start);
  }
  const serialNumber = ok(integerBytes(der, ok(tbs.next(TAG.INTEGER))));
  const innerSigAlg = ok(tbs.next(TAG.SEQUENCE));
  // RFC 5280 4.1.1.2: the signed copy must name the same algorithm as the outer one.
  if (!Buffer.from(rawOf(der, innerSigAlg)).equals(rawOf(der, sigAlgTlv))) {
    throw new DerProblem(
      'signature algorithms inside and outside the TBS differ',
      innerSigAlg.start,
    );
  }
  const issuer = ok(readName(der, ok(tbs.next(TAG.SEQUENCE))));
  const validity = ok(tbs.next(TAG.SEQUENCE));
  const times = new DerCursor(der, validity.valueStart, validity.end);
  const notBefore = readTime(der, ok(times.nextAny()));
  const notAfter = readTime(der, ok(times.nextAny()));
  problemIf(times.finish());
  const subject = ok(readName(der, ok(tbs.next(TAG.SEQUENCE))));
  const spkiTlv = ok(tbs.next(TAG.SEQUENCE));
  const spkiFields = new DerCursor(der, spkiTlv.valueStart, spkiTlv.end);
  const spkiAlg = ok(spkiFields.next(TAG.SEQUENCE));
  const subjectPublicKey = ok(octetAlignedBits(der, ok(spkiFields.next(TAG.BIT_STRING))));
  problemIf(spkiFields.finish());
  const spkiAlgorithm = ok(
    oidValue(der, ok(new DerCursor(der, spkiAlg.valueStart, spkiAlg.end).next(TAG.OID))),
  );

  let extensions: ExtensionReading[] = [];
  if (tbs.peekTag() === contextConstructed(3)) {
    const wrapper = ok(tbs.next(contextConstructed(3)));
    const inner = new DerCursor(der, wrapper.valueStart, wrapper.end);
    // Signatures are verified over the TBSCertificate as received, so this reading cannot
    // change what the vendor signed.
    extensions = ok(
      readExtensions(der, ok(inner.next(TAG.SEQUENCE)), { explicitCriticalFalse: true }),
    );
    problemIf(inner.finish());
  }
  problemIf(tbs.finish());
  const keyUsage = keyUsageOf(extensions);

  const sigAlg = new DerCursor(der, sigAlgTlv.valueStart, sigAlgTlv.end);
  const sigOid = ok(oidValue(der, ok(sigAlg.next(TAG.OID))));
  const sigParams = sigAlg.done ? undefined : ok(sigAlg.nextAny());
  problemIf(sigAlg.finish());

  return {
    der,
    tbs: rawOf(der, tbsTlv),
    serialNumber,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: rawOf(der, spkiTlv),
    spkiAlgorithm,
    subjectPublicKey,
    extensions,
    basicConstraints: basicConstraintsOf(extensions),
    keyCertSign: keyUsage === undefined ? undefined : keyUsage.includes('keyCertSign'),
    keyUsage,
    signatureAlgorithm: {
      oid: sigOid,
      parameters: sigParams === undefined ? undefined : rawOf(der, sigParams),
    },
    signature,
  };
}

function problemIf(problem: DerProblem | undefined): void {
  if (problem) throw problem;
}

/**
 * UTCTime, or GeneralizedTime in any year. A GeneralizedTime of 1950–2049 is checked by the
 * strict decoder as the UTCTime it should have been, so both forms get the same date checks.
 */
function readTime(der: Uint8Array, t: Tlv): Date {
  const length = t.end - t.valueStart;
  if (t.tag === TAG.GENERALIZED_TIME && length === 15) {
    const year = Number(
      Buffer.from(der.subarray(t.valueStart, t.valueStart + 4)).toString('latin1'),
    );
    if (year >= 1950 && year <= 2049) {
      const asUtc = Uint8Array.of(TAG.UTC_TIME, 13, ...der.subarray(t.valueStart + 2, t.end));
      return ok(decodeTime(asUtc, { tag: TAG.UTC_TIME, start: 0, valueStart: 2, end: 15 }));
    }
  }
  return ok(decodeTime(der, t));
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
 */
function basicConstraintsOf(extensions: ExtensionReading[]): VendorCertificate['basicConstraints'] {
  const ext = extensions.find((e) => e.oid === OID.basicConstraints);
  if (ext === undefined) return undefined;
  const v = ext.value;
  const whole = ok(readWhole(v, TAG.SEQUENCE));
  const fields = new DerCursor(v, whole.valueStart, whole.end);
  // An explicit cA FALSE is not DER, but it says what it means; it is read, not refused.
  const ca =
    fields.peekTag() === TAG.BOOLEAN ? ok(booleanValue(v, ok(fields.next(TAG.BOOLEAN)))) : false;
  const pathLength =
    fields.peekTag() === TAG.INTEGER
      ? ok(smallInteger(v, ok(fields.next(TAG.INTEGER))))
      : undefined;
  problemIf(fields.finish());
  return { ca, pathLength };
}

/**
 * KeyUsage ::= BIT STRING, bit 0 (digitalSignature) the top bit of the first octet. Bits past
 * decipherOnly name nothing and are ignored. A bit set among the unused bits of the last octet
 * (which DER forbids) is read as set: it is what the encoder meant.
 */
function keyUsageOf(extensions: ExtensionReading[]): KeyUsageName[] | undefined {
  const ext = extensions.find((e) => e.oid === OID.keyUsage);
  if (ext === undefined) return undefined;
  const bits = ok(readWhole(ext.value, TAG.BIT_STRING));
  const content = ext.value.subarray(bits.valueStart, bits.end);
  if (content.length === 0 || content[0]! > 7) {
    throw new DerProblem('keyUsage is not a BIT STRING', 0);
  }
  return KEY_USAGE_NAMES.filter(
    (_, bit) => ((content[1 + (bit >> 3)] ?? 0) & (0x80 >> (bit & 7))) !== 0,
  );
}
