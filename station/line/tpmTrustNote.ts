import type { EkTrustStore } from '../../certs/tpm/ekTrustStore.js';
import type { ProductProfile } from '../profiles/productProfile.js';

/**
 * The note of a tpm line that cannot check any EK certificate: it fails every TPM that has one,
 * so the line says so up front rather than on the first device. Undefined for every other line.
 */
export function tpmTrustNote(
  profile: ProductProfile,
  ekTrust: EkTrustStore | undefined,
): string | undefined {
  const { attestation } = profile;
  if (attestation.mode !== 'tpm' || (ekTrust?.size ?? 0) > 0) return undefined;
  const fails =
    attestation.ekCertificate === 'if-present'
      ? 'a TPM with an EK certificate fails'
      : 'every TPM device fails';
  return `No TPM vendor CA certificates on this station: ${fails}. A supervisor adds the vendor CAs to the trust/tpm-vendors folder of the data folder.`;
}
