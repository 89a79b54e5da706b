import { CertError } from '../certErrors.js';
import { DerCursor, DerProblem, isProblem, readWhole, type Tlv } from '../der/derReader.js';
import { contextConstructed, TAG } from '../der/derTags.js';
import { octetAlignedBits, oidValue, rawOf, smallInteger } from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { readCommonName, type CommonNameReading } from '../x509/readName.js';
import { readExtensions } from '../x509/readExtensions.js';
import { readSpki, type SpkiReading } from '../x509/readSpki.js';

/**
 * A PKCS#10 CertificationRequest (RFC 2986) read in place: every byte field is a view into the
 * DER that was passed in, so nothing is copied and the signed bytes are exactly those received.
 */
export interface ParsedCsr {
  /** The whole request as received. */
  der: Uint8Array;
  /** certificationRequestInfo, tag and length included: the bytes the device signed. */
  info: Uint8Array;
  /** Always 0 (v1); anything else is refused as malformed. */
  version: number;
  /** The subject Name element, raw. */
  subject: Uint8Array;
  /** The subject's CN, read strictly; other attributes are neither decoded nor ever copied. */
  commonName: CommonNameReading;
  /** The device's SubjectPublicKeyInfo, raw, with its key bits and a description of the key. */
  spki: SpkiReading;
  /** OIDs of all attributes, in order (extensionRequest among them when present). */
  attributeOids: string[];
  /** OIDs of the extensions asked for in an extensionRequest attribute, in order. */
  requestedExtensions: string[];
  /** signatureAlgorithm: its OID, and its parameters element raw when there is one. */
  signatureAlgorithm: { oid: string; parameters: Uint8Array | undefined };
  /** Contents of the signature BIT STRING (DER ECDSA-Sig-Value, or the RSA signature). */
  signature: Uint8Array;
}

/** Reads a DER PKCS#10 request; throws CertError('CSR_MALFORMED') with the reason as detail. */
export function parseCsr(der: Uint8Array): ParsedCsr {
  const request = ok(readWhole(der, TAG.SEQUENCE), 'CertificationRequest');
  const top = new DerCursor(der, request.valueStart, request.end);
  const infoTlv = ok(top.next(TAG.SEQUENCE), 'certificationRequestInfo');
  const sigAlgTlv = ok(top.next(TAG.SEQUENCE), 'signatureAlgorithm');
  const sigTlv = ok(top.next(TAG.BIT_STRING), 'signature');
  done(top.finish(), 'CertificationRequest');

  const info = new DerCursor(der, infoTlv.valueStart, infoTlv.end);
  const version = ok(smallInteger(der, ok(info.next(TAG.INTEGER), 'version')), 'version');
  if (version !== 0) malformed(`version ${version}, expected 0 (v1)`);
  const subjectTlv = ok(info.next(TAG.SEQUENCE), 'subject');
  const spkiTlv = ok(info.next(TAG.SEQUENCE), 'subjectPKInfo');
  const attributesTlv = ok(info.next(contextConstructed(0)), 'attributes');
  done(info.finish(), 'certificationRequestInfo');

  const attributes = readAttributes(der, attributesTlv);

  const sigAlg = new DerCursor(der, sigAlgTlv.valueStart, sigAlgTlv.end);
  const sigOid = ok(oidValue(der, ok(sigAlg.next(TAG.OID), 'signatureAlgorithm')), 'algorithm');
  const sigParams = sigAlg.done ? undefined : ok(sigAlg.nextAny(), 'signature parameters');
  done(sigAlg.finish(), 'signatureAlgorithm');

  return {
    der,
    info: rawOf(der, infoTlv),
    version,
    subject: rawOf(der, subjectTlv),
    commonName: ok(readCommonName(der, subjectTlv), 'subject'),
    spki: ok(readSpki(der, spkiTlv), 'subjectPKInfo'),
    attributeOids: attributes.oids,
    requestedExtensions: attributes.requestedExtensions,
    signatureAlgorithm: {
      oid: sigOid,
      parameters: sigParams === undefined ? undefined : rawOf(der, sigParams),
    },
    signature: ok(octetAlignedBits(der, sigTlv), 'signature'),
  };
}

/** attributes [0] IMPLICIT SET OF Attribute; Attribute ::= SEQUENCE { type, values SET OF }. */
function readAttributes(
  der: Uint8Array,
  list: Tlv,
): { oids: string[]; requestedExtensions: string[] } {
  const oids: string[] = [];
  let requestedExtensions: string[] = [];
  const items = new DerCursor(der, list.valueStart, list.end);
  while (!items.done) {
    const attribute = ok(items.next(TAG.SEQUENCE), 'attribute');
    const fields = new DerCursor(der, attribute.valueStart, attribute.end);
    const type = ok(oidValue(der, ok(fields.next(TAG.OID), 'attribute type')), 'attribute type');
    const values = ok(fields.next(TAG.SET), 'attribute values');
    done(fields.finish(), 'attribute');
    if (values.end === values.valueStart) malformed(`attribute ${type} has no value`);
    if (type === OID.extensionRequest) {
      if (oids.includes(type)) malformed('extensionRequest appears twice');
      // values is SET SIZE (1) OF Extensions here: exactly one SEQUENCE OF Extension.
      const inner = new DerCursor(der, values.valueStart, values.end);
      const extensions = ok(inner.next(TAG.SEQUENCE), 'extensionRequest');
      done(inner.finish(), 'extensionRequest');
      requestedExtensions = ok(readExtensions(der, extensions), 'extensionRequest').map(
        (e) => e.oid,
      );
    }
    oids.push(type);
  }
  return { oids, requestedExtensions };
}

function ok<T>(value: T | DerProblem, what: string): T {
  if (isProblem(value)) malformed(`${what}: ${value.toString()}`);
  return value;
}

function done(problem: DerProblem | undefined, what: string): void {
  if (problem) malformed(`${what}: ${problem.toString()}`);
}

function malformed(detail: string): never {
  throw new CertError('CSR_MALFORMED', detail);
}
