/**
 * The attestation modes a profile may name. In a file of their own so the cross-field checks
 * (profileCrossChecks.ts) and the schema (productProfile.ts) share one list without importing
 * each other.
 */
export const attestationModes = [
  'x509-device-key',
  'x509-station-key',
  'symmetric-key-group',
  'symmetric-key-individual',
  'tpm',
] as const;
export type AttestationMode = (typeof attestationModes)[number];

export function isAttestationMode(value: unknown): value is AttestationMode {
  return typeof value === 'string' && (attestationModes as readonly string[]).includes(value);
}

/** Which template fields and ID rules a mode has: X.509 puts the ID in a 64-character CN. */
export function templateOptions(mode: AttestationMode): { x509: boolean; tpm: boolean } {
  return { x509: mode.startsWith('x509-'), tpm: mode === 'tpm' };
}
