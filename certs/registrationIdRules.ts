/**
 * Registration IDs as DPS accepts them: case-insensitive, at most 128 characters of
 * alphanumerics and `- . _ :`, starting and ending with an alphanumeric. X.509 attestation
 * carries the ID as the certificate CN, which limits it to 64 characters. The station uses the
 * lower-case form, which every DPS client and SDK accepts.
 *
 * These rules live in certs/ because the CA checks them before it puts an ID in a certificate;
 * station/line/registrationId.ts re-exports them next to the template renderer.
 */
export const REGISTRATION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9._:-]{0,126}[a-z0-9])?$/;
export const REGISTRATION_ID_MAX = 128;
export const X509_REGISTRATION_ID_MAX = 64;

/** Says what is wrong with a registration ID, or returns undefined when DPS will accept it. */
export function registrationIdProblem(
  id: string,
  options: { x509?: boolean } = {},
): string | undefined {
  if (id.length === 0) return 'is empty';
  const max = options.x509 ? X509_REGISTRATION_ID_MAX : REGISTRATION_ID_MAX;
  if (id.length > max)
    return `is ${id.length} characters; at most ${max}${options.x509 ? ' for X.509 (certificate CN)' : ''}`;
  if (!REGISTRATION_ID_PATTERN.test(id)) {
    return 'may hold only lower-case letters, digits and - . _ : and must start and end with a letter or digit';
  }
  return undefined;
}
