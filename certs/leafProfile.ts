/** A key type a device may present in its CSR. */
export type AllowedKey = { kty: 'EC'; curve: 'P-256' | 'P-384' } | { kty: 'RSA'; minBits: number };

/**
 * What a product's device certificates look like and what their CSRs may contain. Product
 * profiles (station) carry one of these; the CA applies it.
 */
export interface LeafProfile {
  /** Shown in logs and recorded with each issuance. */
  name: string;
  /** Leaf validity; never beyond the issuing CA's own notAfter. */
  validityDays: number;
  allowedKeys: AllowedKey[];
  /** Extension OIDs a CSR may request. Requested extensions are checked, never copied. */
  allowedRequestedExtensions: string[];
  /** Subject alternative names added to every leaf, `{registrationId}` expanded. */
  subjectAltNames: { dns: string[]; uri: string[] };
  /** Largest CSR accepted, in bytes. */
  maxCsrBytes: number;
}

export const DEFAULT_LEAF_PROFILE: LeafProfile = {
  name: 'default',
  validityDays: 365 * 3,
  allowedKeys: [
    { kty: 'EC', curve: 'P-256' },
    { kty: 'EC', curve: 'P-384' },
  ],
  allowedRequestedExtensions: [],
  subjectAltNames: { dns: [], uri: [] },
  maxCsrBytes: 4096,
};
