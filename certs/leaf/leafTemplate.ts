import type { CaSignatureAlgorithm } from '../caSigner.js';
import { CertError } from '../certErrors.js';
import { DerCursor, isProblem, readWhole } from '../der/derReader.js';
import { contextConstructed, TAG } from '../der/derTags.js';
import { encodeTree, node, type DerPart } from '../der/derTree.js';
import { octetAlignedBits } from '../der/derValues.js';
import {
  bitString,
  explicit,
  integerFromBytes,
  nullElement,
  oid,
  sequence,
  smallInteger,
} from '../der/derWriter.js';
import type { LeafProfile } from '../leafProfile.js';
import { registrationIdProblem } from '../registrationIdRules.js';
import { OID } from '../x509/oids.js';
import { readIssuerFacts, type IssuerFacts } from './issuerFacts.js';
import {
  authorityKeyIdentifier,
  basicConstraintsEndEntity,
  extendedKeyUsageClientAuth,
  keyIdentifier,
  keyUsageDigitalSignature,
  subjectAltName,
} from './leafExtensions.js';
import { leafValidity, ValidityEncoder, type LeafValidity } from './leafValidity.js';
import { newSerialNumber } from './serialNumber.js';

/** What one leaf needs beyond its template. */
export interface LeafRequest {
  /** Becomes `CN=<registrationId>` (UTF8String); checked against the DPS rules again here. */
  registrationId: string;
  /**
   * The device's SubjectPublicKeyInfo DER, copied into the certificate as-is (a CSR's compressed
   * EC point is made uncompressed before, where the CSR's key is taken: leafSpki).
   */
  spki: Uint8Array;
  /** Magnitude bytes; default `newSerialNumber()`. Fixed only in tests. */
  serialNumber?: Uint8Array;
  /** Issuance time (ms or Date); default now. Fixed only in tests. */
  now?: number | Date;
}

/** A TBSCertificate ready to sign, with the values it was built from. */
export interface BuiltTbs {
  tbs: Buffer;
  serialNumber: Uint8Array;
  validity: LeafValidity;
}

const SIGNATURE_ALGORITHMS: Record<CaSignatureAlgorithm, () => Buffer> = {
  // RFC 5758 3.2: ECDSA identifiers carry no parameters; RFC 4055: RSA ones carry NULL.
  'ecdsa-with-SHA256': () => sequence(oid(OID.ecdsaWithSha256)),
  'ecdsa-with-SHA384': () => sequence(oid(OID.ecdsaWithSha384)),
  sha256WithRSAEncryption: () => sequence(oid(OID.sha256WithRsaEncryption), nullElement()),
};

const PLACEHOLDER = '{registrationId}';
const COMMON_NAME_TYPE = oid(OID.commonName);
const SKI_TYPE = oid(OID.subjectKeyIdentifier);

/**
 * The constant part of every leaf one issuing CA signs under one profile and one signature
 * algorithm, encoded once: version, signature AlgorithmIdentifier, issuer Name and the
 * constant extensions (BasicConstraints CA:false critical, KeyUsage digitalSignature critical,
 * EKU clientAuth, AKI). Per leaf only the serial, validity, subject, SPKI, SKI and SANs are
 * encoded and the pieces concatenated: that is what keeps issuance near the cost of signing.
 *
 * The bytes match what @peculiar/x509's X509CertificateGenerator writes for the same inputs
 * (leafTemplate.test.ts holds the two side by side).
 */
export class LeafTemplate {
  private readonly version = explicit(0, smallInteger(2));
  private readonly signatureAlgorithm: Buffer;
  private readonly issuerName: Buffer;
  private readonly leadingExtensions: Buffer;
  private readonly authorityKeyId: Buffer;
  private readonly constantSan: Buffer | undefined;
  private readonly sanTemplates: { dns: string[]; uri: string[] } | undefined;
  private readonly validities = new ValidityEncoder();
  /** Copied from the profile: a template never changes after it is made. */
  private readonly validityDays: number;

  private constructor(
    readonly issuer: IssuerFacts,
    readonly profile: LeafProfile,
    readonly algorithm: CaSignatureAlgorithm,
  ) {
    this.validityDays = profile.validityDays;
    this.signatureAlgorithm = SIGNATURE_ALGORITHMS[algorithm]();
    this.issuerName = Buffer.from(issuer.subject);
    this.leadingExtensions = Buffer.concat([
      basicConstraintsEndEntity(),
      keyUsageDigitalSignature(),
      extendedKeyUsageClientAuth(),
    ]);
    this.authorityKeyId = authorityKeyIdentifier(issuer.keyIdentifier);
    const { dns, uri } = profile.subjectAltNames;
    if (dns.length + uri.length === 0) return;
    if ([...dns, ...uri].some((n) => n.includes(PLACEHOLDER))) {
      this.sanTemplates = { dns: [...dns], uri: [...uri] };
      // Encode once with a sample ID so an unusable template fails here, not on the line.
      subjectAltName(expand(dns, 'sample'), expand(uri, 'sample'));
    } else {
      this.constantSan = subjectAltName(dns, uri);
    }
  }

  /** A template for leaves signed by the CA whose certificate (DER) is `issuingCertificate`. */
  static create(options: {
    issuingCertificate: Uint8Array;
    profile: LeafProfile;
    algorithm: CaSignatureAlgorithm;
    /**
     * When the chain above the issuing CA ends, if that is sooner than the issuing CA: a leaf
     * may not outlive any certificate of its path, or it stops verifying before its notAfter.
     */
    chainNotAfter?: Date;
    /** When the chain above starts, if later than the issuing CA: a leaf may not start before. */
    chainNotBefore?: Date;
  }): LeafTemplate {
    const issuer = readIssuerFacts(options.issuingCertificate);
    if (options.chainNotAfter && options.chainNotAfter < issuer.notAfter) {
      issuer.notAfter = options.chainNotAfter;
    }
    if (options.chainNotBefore && options.chainNotBefore > issuer.notBefore) {
      issuer.notBefore = options.chainNotBefore;
    }
    const kty = options.algorithm === 'sha256WithRSAEncryption' ? 'RSA' : 'EC';
    if (issuer.key.kty !== kty) {
      throw new CertError(
        'CA_KEY_UNSUPPORTED',
        `${options.algorithm} needs an ${kty} CA key; the issuing CA has ${issuer.key.kty}`,
      );
    }
    return new LeafTemplate(issuer, options.profile, options.algorithm);
  }

  /** Encodes the TBSCertificate of one leaf. */
  buildTbs(req: LeafRequest): BuiltTbs {
    const id = req.registrationId;
    const idProblem = registrationIdProblem(id, { x509: true });
    if (idProblem) throw new CertError('CSR_REGISTRATION_ID_INVALID', `"${id}" ${idProblem}`);
    const nowMs = req.now === undefined ? Date.now() : +req.now;
    const validity = leafValidity(nowMs, this.validityDays, this.issuer);
    const serialNumber = req.serialNumber ?? newSerialNumber();
    const spki = req.spki;

    const extensions: DerPart[] = [
      this.leadingExtensions,
      // Extension { subjectKeyIdentifier, OCTET STRING { KeyIdentifier OCTET STRING } }
      node(
        TAG.SEQUENCE,
        SKI_TYPE,
        node(TAG.OCTET_STRING, node(TAG.OCTET_STRING, keyIdentifier(subjectPublicKeyOf(spki)))),
      ),
      this.authorityKeyId,
    ];
    const san = this.constantSan ?? this.expandedSan(id);
    if (san) extensions.push(san);

    const tbs = encodeTree(
      node(
        TAG.SEQUENCE,
        this.version,
        serialElement(serialNumber),
        this.signatureAlgorithm,
        this.issuerName,
        this.validities.encode(validity),
        // Name: one RDN holding CN as a UTF8String (the ID is ASCII, checked above).
        node(
          TAG.SEQUENCE,
          node(
            TAG.SET,
            node(TAG.SEQUENCE, COMMON_NAME_TYPE, node(TAG.UTF8_STRING, Buffer.from(id))),
          ),
        ),
        spki,
        node(contextConstructed(3), node(TAG.SEQUENCE, ...extensions)),
      ),
    );
    return { tbs, serialNumber, validity };
  }

  /** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }. */
  assembleCertificate(tbs: Uint8Array, signature: Uint8Array): Buffer {
    return sequence(tbs, this.signatureAlgorithm, bitString(signature));
  }

  private expandedSan(id: string): Buffer | undefined {
    const t = this.sanTemplates;
    return t ? subjectAltName(expand(t.dns, id), expand(t.uri, id)) : undefined;
  }
}

/** The serial as an INTEGER; a newSerialNumber() value (first byte 01..7f) needs no trimming. */
function serialElement(serial: Uint8Array): DerPart {
  // RFC 5280 4.1.2.2: at most 20 octets.
  if (serial.length > 20) throw new Error(`serial number of ${serial.length} bytes; at most 20`);
  const first = serial[0] ?? 0;
  return first > 0 && first < 0x80 ? node(TAG.INTEGER, serial) : integerFromBytes(serial);
}

function expand(names: readonly string[], id: string): string[] {
  return names.map((n) => n.split(PLACEHOLDER).join(id));
}

/** The key bits of a SubjectPublicKeyInfo; refuses anything but SEQUENCE { SEQUENCE, BIT STRING }. */
function subjectPublicKeyOf(spki: Uint8Array): Uint8Array {
  const whole = readWhole(spki, TAG.SEQUENCE);
  if (!isProblem(whole)) {
    const fields = new DerCursor(spki, whole.valueStart, whole.end);
    const algorithm = fields.next(TAG.SEQUENCE);
    const bits = isProblem(algorithm) ? algorithm : fields.next(TAG.BIT_STRING);
    if (!isProblem(bits) && !fields.finish()) {
      const key = octetAlignedBits(spki, bits);
      if (!isProblem(key)) return key;
    }
  }
  throw new CertError('CSR_MALFORMED', 'device SubjectPublicKeyInfo is not DER');
}
