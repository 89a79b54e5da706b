import { createHash } from 'node:crypto';
import { CertError } from '../certErrors.js';
import { DerCursor, isProblem, readWhole } from '../der/derReader.js';
import { TAG } from '../der/derTags.js';
import { octetAlignedBits } from '../der/derValues.js';
import {
  notAnEkCertificate,
  tpmOfEkCertificate,
  type TpmIdentity,
} from './ekCertificateProfile.js';
import { buildEkChain, certificateLabel } from './ekChain.js';
import type { EkTrustStore } from './ekTrustStore.js';
import type { EkPublic } from './tpmPublic.js';
import { readVendorCertificate, type VendorCertificate } from './vendorCertificate.js';
import { VENDOR_OID } from './vendorOids.js';

/** An EK certificate that passed every check. */
export interface EkCertificateCheck {
  /**
   * Subjects (or, where a subject is empty as TCG EK certificates usually are, the issuer-derived
   * label) from the EK certificate up to the vendor root.
   */
  chain: string[];
  /** The root's subject, e.g. "Infineon OPTIGA(TM) RSA Root CA". */
  vendorRoot: string;
  /** hex SHA-256 of the EK certificate DER */
  certificateSha256: string;
  /**
   * Things accepted under the policy, said plainly for the run log (e.g. an intermediate that
   * expired after it issued this certificate).
   */
  notes: string[];
  /**
   * The TPM the certificate's subjectAltName names (manufacturer as written, e.g. "id:49465800"),
   * when it names one.
   */
  tpm?: TpmIdentity;
}

/** EK certificates are 1–2 KiB; the TPM's NV index for one is at most a few KiB. */
export const MAX_EK_CERTIFICATE_BYTES = 8 * 1024;

/**
 * Checks the EK certificate a device's TPM holds against the EK it reported, in this order,
 * each refusal a CertError:
 *
 * 1. `EK_CERT_MALFORMED`: over 8 KiB, or not exactly one DER certificate (an NV index read in
 *    full may carry padding after the certificate; the firmware must send the DER alone).
 *    TCG EK certificates usually have an empty subject and a critical subjectAltName with the
 *    TPM's manufacturer, model and version, and may carry other critical TCG extensions: all of
 *    that is accepted; the station reads the TPM's names for the record and acts on none of
 *    the rest. The DER slips vendors ship and vendorCertificate.ts reads are not refusals (an
 *    extension's `critical` written out as FALSE, as Intel PTT and AMD fTPM certificates do).
 * 2. `EK_CERT_KEY_MISMATCH`: its key is not the EK (compared with `ek.spkiDer` byte for byte;
 *    an RSA key labelled RSAES-OAEP, as some EK certificates do, is compared by its modulus and
 *    exponent).
 * 3. `EK_NOT_AN_ENDORSEMENT_KEY`: it is a CA certificate, which no EK certificate is.
 * 4. `EK_CERT_NOT_AN_EK_CERTIFICATE`: it carries neither TCG marker (the extended key usage
 *    tcg-kp-EKCertificate, a subjectAltName naming the TPM manufacturer), or its keyUsage does
 *    not allow what the EK does (see ekCertificateProfile.ts). A vendor CA's other
 *    certificates for the same key do not vouch for it as a TPM's EK.
 * 5. `EK_CERT_UNTRUSTED`: no path of verifying signatures through the store's CAs to one of its
 *    roots, or a CA on the path that was not valid when it issued (see ekChain.ts for the
 *    validity policy: CAs expired since are accepted with a note).
 * 6. `EK_CERT_EXPIRED` / `EK_CERT_NOT_YET_VALID`: the EK certificate itself is outside its
 *    validity at `now`.
 *
 * The signatures come before the dates, so a date is only ever reported on a certificate
 * whose vendor is proven.
 */
export async function checkEkCertificate(input: {
  ek: EkPublic;
  certificateDer: Uint8Array;
  trust: EkTrustStore;
  now?: Date;
}): Promise<EkCertificateCheck> {
  const { ek, certificateDer: der, trust } = input;
  const now = input.now ?? new Date();
  if (der.length > MAX_EK_CERTIFICATE_BYTES) {
    throw new CertError(
      'EK_CERT_MALFORMED',
      `${der.length} bytes; at most ${MAX_EK_CERTIFICATE_BYTES}`,
    );
  }
  const cert = readVendorCertificate(der);
  if (isProblem(cert)) throw new CertError('EK_CERT_MALFORMED', cert.toString());
  if (!holdsKey(cert, ek)) {
    throw new CertError(
      'EK_CERT_KEY_MISMATCH',
      `certificate key ${fingerprint(cert.spki)}, the TPM's ${ek.type} EK ${fingerprint(ek.spkiDer)} (SHA-256 of each SubjectPublicKeyInfo)`,
    );
  }
  if (cert.basicConstraints?.ca === true) {
    throw new CertError(
      'EK_NOT_AN_ENDORSEMENT_KEY',
      `the certificate for the EK is a CA certificate`,
    );
  }
  const label = certificateLabel(cert);
  const notAnEk = notAnEkCertificate(cert, ek.type);
  if (notAnEk !== undefined) {
    throw new CertError('EK_CERT_NOT_AN_EK_CERTIFICATE', `"${label}": ${notAnEk}`);
  }
  const chain = buildEkChain(cert, trust, now);
  if (now < cert.notBefore) {
    throw new CertError(
      'EK_CERT_NOT_YET_VALID',
      `"${label}" is valid from ${cert.notBefore.toISOString()}`,
    );
  }
  if (now > cert.notAfter) {
    throw new CertError('EK_CERT_EXPIRED', `"${label}" expired ${cert.notAfter.toISOString()}`);
  }
  const names = chain.cas.map((ca) => ca.cert.subject.label);
  const tpm = tpmOfEkCertificate(cert);
  return {
    chain: [label, ...names],
    vendorRoot: names[names.length - 1]!,
    certificateSha256: createHash('sha256').update(der).digest('hex'),
    notes: chain.notes,
    ...(tpm === undefined ? {} : { tpm }),
  };
}

function holdsKey(cert: VendorCertificate, ek: EkPublic): boolean {
  if (Buffer.from(cert.spki).equals(ek.spkiDer)) return true;
  if (ek.type !== 'rsa' || cert.spkiAlgorithm !== VENDOR_OID.rsaesOaep) return false;
  const ekRsaPublicKey = subjectPublicKeyOf(ek.spkiDer);
  return ekRsaPublicKey !== undefined && Buffer.from(cert.subjectPublicKey).equals(ekRsaPublicKey);
}

/** The BIT STRING contents of an SPKI the station built itself. */
function subjectPublicKeyOf(spki: Uint8Array): Uint8Array | undefined {
  const whole = readWhole(spki, TAG.SEQUENCE);
  if (isProblem(whole)) return undefined;
  const fields = new DerCursor(spki, whole.valueStart, whole.end);
  if (isProblem(fields.next(TAG.SEQUENCE))) return undefined;
  const bits = fields.next(TAG.BIT_STRING);
  if (isProblem(bits)) return undefined;
  const key = octetAlignedBits(spki, bits);
  return isProblem(key) ? undefined : key;
}

function fingerprint(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
