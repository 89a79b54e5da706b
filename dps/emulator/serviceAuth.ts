import { parseSasToken, sasResource, sasSignatureMatches } from '../auth/sas.js';
import { unauthorized } from './errorBodies.js';

/**
 * Service API authentication (dps-protocol.md §1.2): a SAS token signed with the emulator's own
 * policy key. The resource, decoded and lower-cased, must name one of the emulator's host names
 * (with or without the port) and may narrow to a path prefix by whole segments.
 */
export interface ServiceCredentials {
  policyName: string;
  /** Base64 shared access key. A secret: never logged, never in an error message. */
  keyBase64: string;
  /** Host names the emulator answers to, lower-case, each with and without its port. */
  hostNames: ReadonlySet<string>;
}

/** Throws 401 (401002) unless `authorization` is a valid, current token for this request. */
export function authenticateService(
  authorization: string | undefined,
  credentials: ServiceCredentials,
  pathSegments: readonly string[],
  nowSeconds = Math.floor(Date.now() / 1000),
): void {
  if (authorization === undefined) throw unauthorized('the Authorization header is missing.');
  const fields = parseSasToken(authorization.trim());
  if (fields === undefined) throw unauthorized('the Authorization header is not a SAS token.');
  if (fields.skn !== credentials.policyName) {
    throw unauthorized('the token names an unknown shared access policy.');
  }
  if (fields.se <= nowSeconds) throw unauthorized('the token has expired.');
  const resource = sasResource(fields);
  const slash = resource.indexOf('/');
  const host = slash < 0 ? resource : resource.slice(0, slash);
  if (!credentials.hostNames.has(host)) {
    throw unauthorized('the token was issued for another host.');
  }
  if (slash >= 0) {
    const prefix = resource
      .slice(slash + 1)
      .split('/')
      .filter((part) => part !== '');
    const path = pathSegments.map((part) => part.toLowerCase());
    if (prefix.some((part, i) => path[i] !== part)) {
      throw unauthorized('the token does not cover this path.');
    }
  }
  if (!sasSignatureMatches(fields, credentials.keyBase64)) {
    throw unauthorized('the token signature is not valid for this policy key.');
  }
}

/**
 * The host names a token may name: each bare name in `names`, lower-case, and with `:port` unless
 * no port is given (as real DPS, whose resource is the bare host name).
 */
export function serviceHostNames(names: readonly string[], port: number | undefined): Set<string> {
  const result = new Set<string>();
  for (const name of names) {
    const bare = name.toLowerCase();
    result.add(bare);
    if (port !== undefined) result.add(`${bare}:${port}`);
  }
  return result;
}
