import { constants, createHash, sign, type KeyObject } from 'node:crypto';
import { encodeTime } from '../der/derTime.js';
import {
  bitString,
  boolean,
  explicit,
  integerFromBytes,
  nullElement,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  smallInteger,
  tlv,
  utf8String,
} from '../der/derWriter.js';
import { DerCursor, isProblem, readWhole } from '../der/derReader.js';
import { contextConstructed, contextPrimitive, TAG } from '../der/derTags.js';
import { octetAlignedBits } from '../der/derValues.js';
import { OID } from '../x509/oids.js';
import { VENDOR_OID } from '../tpm/vendorOids.js';

/**
 * X.509 certificates for the EK tests, written with the station's DER writer so every field is
 * under the test's control: empty subjects, critical TCG extensions, dates decades apart, and
 * each signature algorithm TPM vendors use. **Test material only.**
 */

export type TestSignature =
  | 'rsa-pkcs1-sha1'
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-sha384'
  | 'rsa-pkcs1-sha512'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'ecdsa-sha512';

export interface TestCertificateInput {
  serial: number;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: Uint8Array[];
  signer: KeyObject;
  signature: TestSignature;
}

const HASH_OIDS = {
  sha256: VENDOR_OID.sha256,
  sha384: VENDOR_OID.sha384,
} as const;

const PKCS1_OIDS = {
  sha1: VENDOR_OID.sha1WithRsaEncryption,
  sha256: VENDOR_OID.sha256WithRsaEncryption,
  sha384: VENDOR_OID.sha384WithRsaEncryption,
  sha512: VENDOR_OID.sha512WithRsaEncryption,
} as const;

const ECDSA_OIDS = {
  sha256: VENDOR_OID.ecdsaWithSha256,
  sha384: VENDOR_OID.ecdsaWithSha384,
  sha512: VENDOR_OID.ecdsaWithSha512,
} as const;

/** The signatureAlgorithm element for `signature` (RFC 8017, RFC 4055, RFC 5758). */
export function signatureAlgorithm(signature: TestSignature): Buffer {
  const [family, hash] = splitSignature(signature);
  if (family === 'rsa-pkcs1') {
    return sequence(oid(PKCS1_OIDS[hash as keyof typeof PKCS1_OIDS]), nullElement());
  }
  if (family === 'ecdsa') return sequence(oid(ECDSA_OIDS[hash as keyof typeof ECDSA_OIDS]));
  const hashAlgorithm = sequence(oid(HASH_OIDS[hash as keyof typeof HASH_OIDS]), nullElement());
  const params = sequence(
    explicit(0, hashAlgorithm),
    explicit(1, sequence(oid(VENDOR_OID.mgf1), hashAlgorithm)),
    explicit(2, smallInteger(saltLength(hash))),
  );
  return sequence(oid(VENDOR_OID.rsassaPss), params);
}

/** A whole certificate, signed by `signer`. */
export function buildTestCertificate(input: TestCertificateInput): Buffer {
  const algorithm = signatureAlgorithm(input.signature);
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    integerFromBytes(serialBytes(input.serial)),
    algorithm,
    input.issuer,
    sequence(encodeTime(input.notBefore), encodeTime(input.notAfter)),
    input.subject,
    input.spki,
    ...(input.extensions.length > 0 ? [explicit(3, sequence(...input.extensions))] : []),
  );
  return sequence(tbs, algorithm, bitString(signWith(input.signer, input.signature, tbs)));
}

function serialBytes(serial: number): Buffer {
  const hex = serial.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

function signWith(key: KeyObject, signature: TestSignature, data: Uint8Array): Buffer {
  const [family, hash] = splitSignature(signature);
  if (family === 'rsa-pss') {
    return sign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: saltLength(hash),
    });
  }
  return sign(hash, data, family === 'ecdsa' ? { key, dsaEncoding: 'der' } : key);
}

function splitSignature(signature: TestSignature): ['rsa-pkcs1' | 'rsa-pss' | 'ecdsa', string] {
  const at = signature.lastIndexOf('-');
  return [signature.slice(0, at) as 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa', signature.slice(at + 1)];
}

/** RFC 4055: the salt is as long as the hash. */
function saltLength(hash: string): number {
  return hash === 'sha384' ? 48 : 32;
}

/**
 * A Name with one attribute per RDN, in order; PrintableString where it can be, else UTF8String.
 */
export function testName(attributes: [type: string, value: string][]): Buffer {
  return sequence(
    ...attributes.map(([type, value]) =>
      set(
        sequence(
          oid(type),
          /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? printableString(value) : utf8String(value),
        ),
      ),
    ),
  );
}

/** An Extension; `critical` FALSE is left out, as DER wants. */
export function extension(id: string, value: Uint8Array, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/**
 * A non-critical Extension with its `critical` FALSE written out (`01 01 00` after the extnID),
 * as Intel PTT and AMD fTPM EK certificates do. Not DER, which omits a DEFAULT value.
 */
export function withCriticalFalseWritten(nonCritical: Uint8Array): Buffer {
  const whole = readWhole(nonCritical, TAG.SEQUENCE);
  if (isProblem(whole)) throw new Error(`not an Extension: ${whole.toString()}`);
  const fields = new DerCursor(nonCritical, whole.valueStart, whole.end);
  const id = fields.next(TAG.OID);
  if (isProblem(id)) throw new Error(`not an Extension: ${id.toString()}`);
  if (fields.peekTag() !== TAG.OCTET_STRING) throw new Error('the Extension is critical');
  return sequence(
    nonCritical.subarray(id.start, id.end),
    boolean(false),
    nonCritical.subarray(id.end, whole.end),
  );
}

/** basicConstraints, critical. */
export function basicConstraints(ca: boolean, pathLength?: number): Buffer {
  const fields = ca
    ? [boolean(true), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])]
    : [];
  return extension(OID.basicConstraints, sequence(...fields), true);
}

/** keyUsage, critical, from bit numbers (0 digitalSignature … 5 keyCertSign, 6 cRLSign). */
export function keyUsage(...bits: number[]): Buffer {
  const bytes = new Uint8Array(Math.floor(Math.max(...bits) / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  // DER drops trailing zero bits of a named bit list: they become the unused-bits count.
  const last = bytes[bytes.length - 1]!;
  const unused = 31 - Math.clz32(last & -last);
  return extension(OID.keyUsage, bitString(bytes, unused), true);
}

export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
};

/** subjectKeyIdentifier: SHA-1 of the key bits (RFC 5280 4.2.1.2, method 1). */
export function subjectKeyIdentifier(subjectPublicKey: Uint8Array): Buffer {
  return extension(OID.subjectKeyIdentifier, octetString(keyId(subjectPublicKey)));
}

/** authorityKeyIdentifier naming the issuer's key. */
export function authorityKeyIdentifier(issuerPublicKey: Uint8Array): Buffer {
  return extension(
    OID.authorityKeyIdentifier,
    sequence(tlv(contextPrimitive(0), keyId(issuerPublicKey))),
  );
}

function keyId(subjectPublicKey: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKey).digest();
}

/**
 * The subjectAltName of a TCG EK certificate, critical because the subject is empty: a
 * directoryName holding the TPM's manufacturer, model and firmware version attributes.
 */
export function tpmSubjectAltName(tpm: {
  manufacturer: string;
  model: string;
  version: string;
}): Buffer {
  const rdn = set(
    sequence(oid(VENDOR_OID.tpmManufacturer), utf8String(tpm.manufacturer)),
    sequence(oid(VENDOR_OID.tpmModel), utf8String(tpm.model)),
    sequence(oid(VENDOR_OID.tpmVersion), utf8String(tpm.version)),
  );
  // directoryName is [4] EXPLICIT: Name is a CHOICE, which cannot be tagged implicitly.
  return extension(OID.subjectAltName, sequence(tlv(contextConstructed(4), sequence(rdn))), true);
}

/** extendedKeyUsage tcg-kp-EKCertificate. */
export function ekCertificateUsage(): Buffer {
  return extension(OID.extKeyUsage, sequence(oid(VENDOR_OID.ekCertificate)));
}

/** The key bits of an SPKI (its BIT STRING contents). */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const whole = readWhole(spki, TAG.SEQUENCE);
  if (isProblem(whole)) throw new Error(`not an SPKI: ${whole.toString()}`);
  const fields = new DerCursor(spki, whole.valueStart, whole.end);
  fields.next(TAG.SEQUENCE);
  const bits = fields.next(TAG.BIT_STRING);
  const key = isProblem(bits) ? bits : octetAlignedBits(spki, bits);
  if (isProblem(key)) throw new Error(`not an SPKI: ${key.toString()}`);
  return key;
}
