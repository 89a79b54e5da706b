/**
 * Object identifiers met in TPM vendor CA and EK certificates beyond those the station's own
 * certificates use (../x509/oids.ts), by the names their RFCs and the TCG give them.
 */
export const VENDOR_OID = {
  // RSA PKCS#1 v1.5 signatures (RFC 8017 A.2.4); SHA-1 still signs older vendor CAs.
  sha1WithRsaEncryption: '1.2.840.113549.1.1.5',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  sha384WithRsaEncryption: '1.2.840.113549.1.1.12',
  sha512WithRsaEncryption: '1.2.840.113549.1.1.13',
  // RSASSA-PSS (RFC 4055) and its MGF1 mask generation function
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  // RSAES-OAEP as a key algorithm: how some EK certificates label an RSA EK (TCG, RFC 4055)
  rsaesOaep: '1.2.840.113549.1.1.7',
  // ECDSA (RFC 5758)
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  // Hashes (NIST CSOR, RFC 3279)
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // Name attributes (X.520), for readable labels
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  // TPM attributes of an EK certificate's subjectAltName (TCG EK Credential Profile)
  tpmManufacturer: '2.23.133.2.1',
  tpmModel: '2.23.133.2.2',
  tpmVersion: '2.23.133.2.3',
  // The EK certificate extended key usage (TCG)
  ekCertificate: '2.23.133.8.1',
} as const;
