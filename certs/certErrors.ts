/**
 * Errors of the station's PKI. Each refusal carries a stable code, operator text saying what to
 * do, and a detail for the log. Codes never change meaning; new cases get new codes.
 */
export const certErrorText = {
  // CSR checks (a device asked for a certificate)
  CSR_TOO_LARGE: 'The device sent an oversized certificate request. Set it aside for engineering.',
  CSR_MALFORMED:
    'The device sent a certificate request the station cannot read. Set it aside for engineering.',
  CSR_SIGNATURE_INVALID:
    'The device could not prove it holds its key (CSR signature invalid). Retry; if it repeats, set it aside.',
  CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED:
    'The device signed its request with an algorithm this product does not allow. Check firmware and profile.',
  CSR_KEY_NOT_ALLOWED:
    'The device key type or size is not allowed by this product profile. Check firmware and profile.',
  CSR_SUBJECT_MISMATCH:
    'The certificate request names another device than the one on this port. Set it aside for engineering.',
  CSR_REGISTRATION_ID_INVALID:
    'The registration ID is not valid for DPS (characters or length). Check the profile template.',
  CSR_EXTENSION_NOT_ALLOWED:
    'The device asked for certificate extensions this product does not grant. Check firmware and profile.',
  CSR_ATTRIBUTE_NOT_ALLOWED:
    'The device put attributes in its certificate request (such as a challenge password) that the station does not accept. Check the firmware.',
  // The CA itself
  CA_NOT_INITIALISED: 'This station has no CA yet. A supervisor must create or import one.',
  CA_ALREADY_INITIALISED:
    'This station already has a CA. Remove it deliberately before creating another.',
  CA_LOCKED:
    'The CA is locked. A supervisor must unlock it for this session before devices can be provisioned.',
  CA_NOT_A_CA:
    'The imported certificate is not a CA certificate. Import the issuing CA from your PKI.',
  CA_NO_KEY_CERT_SIGN:
    'The imported CA certificate may not sign certificates (no keyCertSign). Ask your PKI for an issuing CA.',
  CA_EXPIRED: 'The CA certificate has expired. Import a renewed issuing CA.',
  CA_NOT_YET_VALID:
    'The CA certificate is not valid yet. Check the station clock, or import a current CA.',
  CA_PATHLEN_VIOLATED:
    'The CA chain does not allow this CA to issue device certificates (path length). Ask your PKI.',
  CA_EKU_EXCLUDES_CLIENT_AUTH:
    'The CA chain limits its certificates to uses other than device (client) authentication. Ask your PKI for an issuing CA that allows clientAuth.',
  CA_CHAIN_BROKEN: 'The CA chain does not link up to a root. Import the full chain from your PKI.',
  CA_KEY_MISMATCH:
    'The private key does not belong to the CA certificate. Import the matching pair.',
  CA_KEY_UNSUPPORTED: 'The CA key type is not supported (use ECDSA P-256/P-384 or RSA 2048+).',
  CA_IMPORT_UNREADABLE: 'The CA file could not be read. Check the file and its password.',
  CA_CERTIFICATE_NOT_DER:
    'The CA certificate is not strict DER (the log names the part), so the station cannot issue device certificates from it. Ask your PKI team to re-issue it in strict DER (fixing the encoding means signing it again), then import that.',
  CA_IMPORT_FILE_UNREADABLE:
    'The file cannot be read. Check its name, and that this user may read it.',
  CA_IMPORT_NOT_PKCS12:
    '--pkcs12 takes a PKCS#12 (.p12/.pfx) file. For PEM files give the certificate and key as --cert FILE --key FILE (and --chain FILE) instead of --pkcs12.',
  CA_IMPORT_NO_CERTIFICATE:
    'The --cert file must hold the issuing CA certificate in PEM (-----BEGIN CERTIFICATE-----). Check that --cert and --key are not swapped; a DER certificate converts with `openssl x509 -inform der -in FILE -out FILE.pem`.',
  CA_IMPORT_NO_PRIVATE_KEY:
    "The --key file must hold the issuing CA's private key in PEM (-----BEGIN PRIVATE KEY-----, or EC, RSA or ENCRYPTED PRIVATE KEY). Check that --cert and --key are not swapped.",
  CA_IMPORT_CERTIFICATE_DAMAGED:
    "The file is damaged: it was changed or cut short on its way here. Get a fresh copy from the CA's owner (your PKI team) and import that.",
  CA_IMPORT_CHAIN_EMPTY:
    'There is no certificate in the chain file. Give the certificates above the issuing CA in PEM, or leave --chain out when the certificate file or PKCS#12 holds them.',
  CA_SERIAL_REUSED: 'The CA produced a serial number twice. Stop the line and call engineering.',
  CA_UNKNOWN_CERTIFICATE: 'No certificate with that serial number was issued by this CA.',
  CA_RECORD_CORRUPT: 'The CA record of this station is damaged. Restore the CA folder from backup.',
  // Key custody
  CUSTODY_WRONG_PASSPHRASE: 'Wrong passphrase. Try again.',
  CUSTODY_KEY_FILE_CORRUPT: 'The CA key file is damaged. Restore it from backup.',
  CUSTODY_UNAVAILABLE:
    'The key store of this computer is not available. Use the passphrase instead.',
  CUSTODY_WRAPPER_MISMATCH:
    "This key is locked another way (passphrase or this computer's key store). Unlock it that way.",
  // TPM endorsement keys
  EK_PUBLIC_MALFORMED:
    'The device sent a TPM endorsement key the station cannot read. Set the device aside for engineering.',
  EK_NOT_AN_ENDORSEMENT_KEY:
    'The device sent a TPM key that is not an endorsement key (wrong type or settings). Check the firmware; set the device aside for engineering.',
  EK_CERT_MALFORMED:
    "The device's TPM certificate cannot be read. Set the device aside for engineering.",
  EK_CERT_KEY_MISMATCH:
    "The device's TPM certificate is for another key than its TPM's endorsement key. Set the device aside for engineering.",
  EK_CERT_NOT_AN_EK_CERTIFICATE:
    "The device's TPM certificate is not an endorsement key certificate. Set the device aside for engineering.",
  EK_CERT_UNTRUSTED:
    "The device's TPM certificate does not come from a trusted TPM vendor. Set the device aside; a supervisor adds a new vendor's CA certificates to the trust folder.",
  EK_CERT_EXPIRED:
    "The device's TPM certificate has expired. Check the station clock; if it is right, set the device aside.",
  EK_CERT_NOT_YET_VALID:
    "The device's TPM certificate is not valid yet. Check the station clock; if it is right, set the device aside.",
  EK_TRUST_STORE_UNREADABLE:
    'A TPM vendor CA certificate in the trust folder cannot be used. A supervisor must replace or remove the file named in the log.',
} as const;

export type CertErrorCode = keyof typeof certErrorText;

export class CertError extends Error {
  constructor(
    readonly code: CertErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(certErrorText[code], options);
    this.name = 'CertError';
  }

  toJSON(): { code: CertErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
