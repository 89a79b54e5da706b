import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shared access signatures as DPS uses them (dps-protocol.md §1.2, §2.4): the service API signs
 * `{sr}\n{se}` with the policy key, a device signs `{idScope}/registrations/{regId}\n{se}` with
 * its own key. The HMAC always covers `sr` exactly as placed in the token; SDKs differ on whether
 * that is URL-encoded, so a verifier tries the form as sent first.
 */

export interface SasFields {
  /** The resource exactly as it appears in the token (still URL-encoded if it was sent so). */
  sr: string;
  /** The base64 signature, URL-decoded. */
  sig: string;
  /** Expiry, Unix seconds. */
  se: number;
  /** Policy name (`registration` for devices). */
  skn: string;
}

/** HMAC-SHA256 over `{sr}\n{se}` with a base64 key; returns base64. */
export function sasSignature(keyBase64: string, sr: string, se: number): string {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64'))
    .update(`${sr}\n${se}`, 'utf8')
    .digest('base64');
}

export interface CreateSasOptions {
  /** Resource as it goes into the token. Callers choose whether to encode it. */
  resource: string;
  keyBase64: string;
  policyName: string;
  /** Expiry, Unix seconds. */
  expiresAt: number;
}

/** `SharedAccessSignature sr=…&sig=…&se=…&skn=…`, the signature URL-encoded. */
export function createSasToken(options: CreateSasOptions): string {
  const sig = sasSignature(options.keyBase64, options.resource, options.expiresAt);
  return sasTokenText(options.resource, sig, options.expiresAt, options.policyName);
}

/** The token for a signature made elsewhere (a TPM signs inside the chip), `sig` in base64. */
export function sasTokenText(
  resource: string,
  sigBase64: string,
  expiresAt: number,
  policyName: string,
): string {
  return (
    `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(sigBase64)}` +
    `&se=${expiresAt}&skn=${encodeURIComponent(policyName)}`
  );
}

/** The host a service token names: the HostName without its port, lower case. */
export function serviceSasHost(hostName: string): string {
  return hostName.replace(/:\d+$/, '').toLowerCase();
}

/**
 * The service API token: `sr` is the lower-cased, URL-encoded host name. A port in the connection
 * string's HostName (`…azure-devices-provisioning.net:443`) says where to connect, not what the
 * token is for: DPS refuses `…net%3A443` as another resource, so the port is left out.
 */
export function serviceSasToken(
  hostName: string,
  policyName: string,
  keyBase64: string,
  expiresAt: number,
): string {
  return createSasToken({
    resource: encodeURIComponent(serviceSasHost(hostName)),
    keyBase64,
    policyName,
    expiresAt,
  });
}

/** A device's symmetric-key registration token (`skn=registration`), `sr` URL-encoded. */
export function deviceRegistrationSasToken(
  idScope: string,
  registrationId: string,
  deviceKeyBase64: string,
  expiresAt: number,
): string {
  return createSasToken({
    resource: encodeURIComponent(`${idScope}/registrations/${registrationId}`),
    keyBase64: deviceKeyBase64,
    policyName: 'registration',
    expiresAt,
  });
}

/**
 * The device key of a symmetric-key enrollment group member:
 * base64(HMAC-SHA256(groupKey, registrationId)).
 */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKeyBase64, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}

/**
 * Parses an Authorization header value. Fields in any order, split on `&` and the first `=`.
 * Returns undefined for anything that is not a complete SAS token.
 */
export function parseSasToken(header: string): SasFields | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!header.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(prefix.length).trim().split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) {
    return undefined;
  }
  if (!/^\d{1,12}$/.test(se)) return undefined;
  let decodedSig: string;
  let decodedSkn: string;
  try {
    decodedSig = decodeURIComponent(sig);
    decodedSkn = decodeURIComponent(skn);
  } catch {
    return undefined;
  }
  return { sr, sig: decodedSig, se: Number(se), skn: decodedSkn };
}

/**
 * True when `fields.sig` is the HMAC of `sr` (as sent, or re-encoded canonically) under the key.
 * Constant-time comparison. Expiry and resource checks are the caller's.
 */
export function sasSignatureMatches(fields: SasFields, keyBase64: string): boolean {
  const candidates = new Set([fields.sr]);
  try {
    candidates.add(encodeURIComponent(decodeURIComponent(fields.sr)));
    candidates.add(decodeURIComponent(fields.sr));
  } catch {
    // A malformed escape: only the form as sent can match.
  }
  const given = Buffer.from(fields.sig, 'base64');
  for (const sr of candidates) {
    const expected = Buffer.from(sasSignature(keyBase64, sr, fields.se), 'base64');
    if (expected.length === given.length && timingSafeEqual(expected, given)) return true;
  }
  return false;
}

/** The decoded, lower-cased resource of a token, for prefix checks. */
export function sasResource(fields: SasFields): string {
  try {
    return decodeURIComponent(fields.sr).toLowerCase();
  } catch {
    return fields.sr.toLowerCase();
  }
}
