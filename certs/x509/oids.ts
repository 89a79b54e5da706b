/** The object identifiers the station reads or writes, by the names RFCs give them. */
export const OID = {
  // Names (RFC 5280, X.520)
  commonName: '2.5.4.3',
  // Public keys (RFC 5480, RFC 8017, RFC 8410)
  ecPublicKey: '1.2.840.10045.2.1',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
  // Signature algorithms (RFC 5758, RFC 8017)
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  // PKCS#9 attributes (RFC 2985)
  extensionRequest: '1.2.840.113549.1.9.14',
  // Certificate extensions (RFC 5280 4.2)
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  // Extended key usages
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** Allows every usage (RFC 5280, 4.2.1.12). */
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;
