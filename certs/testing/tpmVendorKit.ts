import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { certificateToPem } from '../ca/pemCertificates.js';
import { isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { EkTrustStore } from '../tpm/ekTrustStore.js';
import { VENDOR_OID } from '../tpm/vendorOids.js';
import { OID } from '../x509/oids.js';
import { readSpki } from '../x509/readSpki.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildTestCertificate,
  ekCertificateUsage,
  KEY_USAGE,
  keyUsage,
  subjectKeyIdentifier,
  subjectPublicKeyBits,
  testName,
  tpmSubjectAltName,
  type TestSignature,
  withCriticalFalseWritten,
} from './testCertificates.js';
import { ekTemplateFields, marshalTpm2bPublic } from './tpmPublicWriter.js';

/**
 * A made-up TPM vendor for tests: a root CA, an intermediate CA, and TPMs whose endorsement
 * keys are real key pairs (node:crypto; the private part is dropped at once, as it never
 * leaves a real TPM) marshalled as TPM2B_PUBLIC with the TCG default EK template, each with an
 * EK certificate shaped like a vendor's (empty subject, critical subjectAltName with the TPM's
 * manufacturer, model and version, keyEncipherment or keyAgreement, CA:FALSE, issued by the
 * intermediate). **Test material only**: the CA keys live in memory for the life of the test,
 * or of `npm run simulate:tpms`, whose made-up maker gives simulated devices their TPMs.
 */

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export interface TpmVendorOptions {
  /** Goes into the CA names: the root is "<name> EK Root CA". */
  name?: string;
  rootValidity?: Validity;
  intermediateValidity?: Validity;
  /** The CA keys; P-384 by default, as recent vendor CAs use. */
  caKey?: 'p256' | 'p384' | 'rsa';
  /** How all three kinds of certificate are signed; it must suit `caKey`. */
  signature?: TestSignature;
}

export interface MakeEkOptions {
  /** RSA 2048 (template L-1, the default) or ECC P-256 (template L-2). */
  type?: 'rsa' | 'ecc';
  /** Whether the TPM holds an EK certificate; true by default. */
  withCertificate?: boolean;
  /**
   * The EK certificate's validity; by default from an hour ago (inside the intermediate's validity)
   * to 9999.
   */
  notBefore?: Date;
  notAfter?: Date;
}

/** How `issueEkCertificate` shapes a certificate; by default like a vendor's EK certificate. */
export interface EkCertificateOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA; false by default. */
  ca?: boolean;
  /** A subject holding this CN; by default the subject is empty, as TCG EK certificates' are. */
  commonName?: string;
  /** The critical subjectAltName naming the TPM (TCG's marker); true by default. */
  tpmSubjectAltName?: boolean;
  /** The extended key usage tcg-kp-EKCertificate (TCG's other marker); true by default. */
  ekUsage?: boolean;
  /**
   * keyUsage bits (KEY_USAGE); by default keyEncipherment for an RSA key, keyAgreement for an
   * EC key. An empty list leaves the extension out.
   */
  keyUsage?: number[];
  /**
   * Writes `critical` FALSE out in the non-critical extensions (extended key usage,
   * authorityKeyIdentifier), as Intel PTT and AMD fTPM EK certificates do: not DER. False by
   * default.
   */
  criticalFalseWritten?: boolean;
}

/** What a TPM answers to GET_EK: its EK public area and, when it holds one, its certificate. */
export interface TestTpm {
  ekPublic: Uint8Array;
  ekCertificate?: Uint8Array;
}

export interface TpmVendor {
  name: string;
  rootPem: string;
  intermediatePem: string;
  rootDer: Uint8Array;
  intermediateDer: Uint8Array;
  /** A trust store holding this vendor's root and intermediate. */
  trust(): EkTrustStore;
  makeEk(options?: MakeEkOptions): Promise<TestTpm>;
  /**
   * A certificate from the intermediate for any key (a real TPM's, or the wrong one): an EK
   * certificate, or by `options` one shaped otherwise.
   */
  issueEkCertificate(spkiDer: Uint8Array, options?: EkCertificateOptions): Uint8Array;
}

const generate = promisify(generateKeyPair);
const DAY = 24 * 60 * 60 * 1000;
const YEAR = 365 * DAY;
/** TCG EK certificates often carry "no well-defined expiration" (RFC 5280 4.1.2.5). */
const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');
/** The TPM the kit's EK certificates name in their subjectAltName. */
export const TEST_TPM = {
  manufacturer: 'id:54455354',
  model: 'TEST TPM',
  version: 'id:00010002',
} as const;

let serial = 1000;

export async function createTpmVendor(options: TpmVendorOptions = {}): Promise<TpmVendor> {
  const name = options.name ?? 'TEST TPM Vendor';
  const caKey = options.caKey ?? 'p384';
  const signature = options.signature ?? (caKey === 'rsa' ? 'rsa-pkcs1-sha256' : 'ecdsa-sha384');
  const now = Date.now();
  const rootValidity = options.rootValidity ?? {
    notBefore: new Date(now - 2 * DAY),
    notAfter: new Date(now + 30 * YEAR),
  };
  const intermediateValidity = options.intermediateValidity ?? {
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 20 * YEAR),
  };
  const root = await caKeyPair(caKey);
  const intermediate = await caKeyPair(caKey);
  const rootName = testName([
    [VENDOR_OID.organizationName, name],
    [OID.commonName, `${name} EK Root CA`],
  ]);
  const intermediateName = testName([
    [VENDOR_OID.organizationName, name],
    [OID.commonName, `${name} EK Intermediate CA`],
  ]);
  const rootBits = subjectPublicKeyBits(root.spki);
  const intermediateBits = subjectPublicKeyBits(intermediate.spki);
  const caUsage = keyUsage(KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign);

  const rootDer = buildTestCertificate({
    serial: serial++,
    issuer: rootName,
    subject: rootName,
    ...rootValidity,
    spki: root.spki,
    extensions: [basicConstraints(true, 1), caUsage, subjectKeyIdentifier(rootBits)],
    signer: root.privateKey,
    signature,
  });
  const intermediateDer = buildTestCertificate({
    serial: serial++,
    issuer: rootName,
    subject: intermediateName,
    ...intermediateValidity,
    spki: intermediate.spki,
    extensions: [
      basicConstraints(true, 0),
      caUsage,
      subjectKeyIdentifier(intermediateBits),
      authorityKeyIdentifier(rootBits),
    ],
    signer: root.privateKey,
    signature,
  });
  const rootPem = certificateToPem(rootDer);
  const intermediatePem = certificateToPem(intermediateDer);

  /** An hour ago, moved inside the intermediate's validity when that lies elsewhere. */
  const defaultNotBefore = (): Date => {
    const hourAgo = Date.now() - 60 * 60 * 1000;
    const latest = intermediateValidity.notAfter.getTime() - DAY;
    return new Date(Math.max(intermediateValidity.notBefore.getTime(), Math.min(hourAgo, latest)));
  };

  const issueEkCertificate: TpmVendor['issueEkCertificate'] = (spkiDer, certOptions = {}) => {
    const usage =
      certOptions.keyUsage ??
      (isEcSpki(spkiDer) ? [KEY_USAGE.keyAgreement] : [KEY_USAGE.keyEncipherment]);
    const nonCritical = (ext: Buffer): Buffer =>
      certOptions.criticalFalseWritten === true ? withCriticalFalseWritten(ext) : ext;
    return buildTestCertificate({
      serial: serial++,
      issuer: intermediateName,
      subject: testName(
        certOptions.commonName === undefined ? [] : [[OID.commonName, certOptions.commonName]],
      ),
      notBefore: certOptions.notBefore ?? defaultNotBefore(),
      notAfter: certOptions.notAfter ?? NO_EXPIRY,
      spki: spkiDer,
      extensions: [
        ...(certOptions.tpmSubjectAltName === false ? [] : [tpmSubjectAltName(TEST_TPM)]),
        basicConstraints(certOptions.ca ?? false),
        ...(usage.length === 0 ? [] : [keyUsage(...usage)]),
        ...(certOptions.ekUsage === false ? [] : [nonCritical(ekCertificateUsage())]),
        nonCritical(authorityKeyIdentifier(intermediateBits)),
      ],
      signer: intermediate.privateKey,
      signature,
    });
  };

  return {
    name,
    rootPem,
    intermediatePem,
    rootDer,
    intermediateDer,
    trust: () =>
      EkTrustStore.fromPems([
        { name: `${name} root`, pem: rootPem },
        { name: `${name} intermediate`, pem: intermediatePem },
      ]),
    async makeEk(ekOptions = {}) {
      const { publicKey } =
        ekOptions.type === 'ecc'
          ? await generate('ec', { namedCurve: 'P-256' })
          : await generate('rsa', { modulusLength: 2048 });
      const ekPublic = marshalTpm2bPublic(ekTemplateFields(publicKey));
      if (ekOptions.withCertificate === false) return { ekPublic };
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      const notBefore =
        ekOptions.notBefore ??
        (ekOptions.notAfter ? new Date(ekOptions.notAfter.getTime() - YEAR) : undefined);
      return {
        ekPublic,
        ekCertificate: issueEkCertificate(spki, { notBefore, notAfter: ekOptions.notAfter }),
      };
    },
    issueEkCertificate,
  };
}

async function caKeyPair(
  kind: 'p256' | 'p384' | 'rsa',
): Promise<{ privateKey: KeyObject; spki: Buffer }> {
  const { publicKey, privateKey } =
    kind === 'rsa'
      ? await generate('rsa', { modulusLength: 2048 })
      : await generate('ec', { namedCurve: kind === 'p256' ? 'P-256' : 'P-384' });
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}

/**
 * Whether an SPKI holds an EC key; anything else (RSA, also labelled RSAES-OAEP) is treated as RSA.
 */
function isEcSpki(spkiDer: Uint8Array): boolean {
  const tlv = readWhole(spkiDer, TAG.SEQUENCE);
  const spki = isProblem(tlv) ? tlv : readSpki(spkiDer, tlv);
  return !isProblem(spki) && spki.key.kty === 'EC';
}
