import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The DPS settings of a profile that a supervisor copies from the Azure portal: the global
 * endpoint and ID scope every device is given, and the IoT hubs its enrollment may name. The
 * portal and the docs show them in several spellings (URLs, upper-case scopes, a hub's bare
 * name), so each check says exactly what the station expects instead of a generic "invalid".
 */

export const DEFAULT_GLOBAL_ENDPOINT = 'global.azure-devices-provisioning.net';

const ID_SCOPE = /^0ne[0-9A-Fa-f]{8}$/;
const ID_SCOPE_EXAMPLE = '0ne00AB12CD';
const HOST_AND_PORT = /^(.+?)(?::(\d{1,5}))?$/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `host` or `host:port` (1 to 65535; 0 names no port a device can reach) as firmware takes it. */
function isHostAndPort(text: string): boolean {
  const match = HOST_AND_PORT.exec(text);
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (port !== undefined && (port < 1 || port > 65_535))) return false;
  return z.hostname().safeParse(match[1]).success;
}

/** The `host[:port]` of a URL, or of `host/path` typed without a scheme; undefined if none. */
function hostOfUrlLike(text: string): URL | undefined {
  try {
    return new URL(URL_SCHEME.test(text) ? text : `https://${text}`);
  } catch {
    return undefined;
  }
}

/**
 * The endpoint the station writes to devices, from what the profile says. The device takes a
 * host (it chooses HTTPS or MQTT over TLS itself), so `https://host/` means exactly `host` and is
 * accepted: the URL's scheme is the one the device uses anyway and it carries nothing else. A
 * URL with a path, a query, credentials or another scheme says something the device cannot be
 * told, so it is refused, with the host name to write instead.
 */
export function readGlobalEndpoint(text: string): { host: string } | { problem: string } {
  if (isHostAndPort(text)) return { host: text };
  const url = URL_SCHEME.test(text) || text.includes('/') ? hostOfUrlLike(text) : undefined;
  if (url !== undefined && url.host !== '' && isHostAndPort(url.host)) {
    const bare =
      url.protocol === 'https:' &&
      URL_SCHEME.test(text) &&
      url.username === '' &&
      url.password === '' &&
      url.pathname === '/' &&
      url.search === '' &&
      url.hash === '';
    if (bare) return { host: url.host };
    return { problem: `expected the host name only, not a URL: write "${url.host}"` };
  }
  return {
    problem: `expected a host name for the DPS global endpoint, optionally with :port (such as ${DEFAULT_GLOBAL_ENDPOINT})`,
  };
}

/**
 * The DPS global endpoint: a host name, optionally with a port, or an https URL of one. Azure's
 * is always on 443; a port is for a local DPS (the emulator, `127.0.0.1:8443`) or a gateway in
 * the plant network.
 */
export const globalEndpointSchema = z
  .string({ error: 'expected a host name for the DPS global endpoint' })
  .transform((text, ctx) => {
    const endpoint = readGlobalEndpoint(text);
    if ('host' in endpoint) return endpoint.host;
    ctx.addIssue({ code: 'custom', message: endpoint.problem, input: text });
    return z.NEVER;
  });

/**
 * What is wrong with an ID scope. The reference (dps-protocol.md) does not say that DPS treats
 * scopes case-insensitively, and the scope is part of the URL path and of the signed SAS
 * resource, so a scope in another case is refused rather than rewritten: the message names the
 * spelling DPS issues (`0ne` in lower case), which the supervisor can check on the portal.
 */
export function idScopeProblem(text: string): string | undefined {
  if (ID_SCOPE.test(text)) return undefined;
  const trimmed = text.trim();
  if (trimmed !== text && ID_SCOPE.test(trimmed)) {
    return `has spaces around it: write "${trimmed}"`;
  }
  const prefix = /^([0Oo])(ne)([0-9A-Fa-f]{8})$/i.exec(trimmed);
  if (prefix) {
    const fixed = `0ne${prefix[3]}`;
    return prefix[1] === '0'
      ? `expected "0ne" in lower case at the start: write "${fixed}" (the hex digits may be in either case)`
      : `starts with the letter ${prefix[1]}, not the digit 0 (zero): write "${fixed}"`;
  }
  return `expected 0ne followed by 8 hex digits, such as ${ID_SCOPE_EXAMPLE} (the DPS overview page shows it)`;
}

export const idScopeSchema = z.string({ error: 'expected a string' }).superRefine((text, ctx) => {
  const problem = idScopeProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * What is wrong with an IoT hub of `iotHubs`. DPS matches these against the host names of its
 * linked hubs, so a hub's bare name (what the portal lists hubs by) is refused at the profile,
 * not by DPS at the first sync.
 */
export function iotHubProblem(text: string): string | undefined {
  const example = 'such as myhub.azure-devices.net';
  // DPS names linked hubs by host name: an address never matches one.
  const address = `expected the IoT hub's host name, not an IP address: write the host name on the hub's overview page, ${example}`;
  if (URL_SCHEME.test(text) || text.includes('/')) {
    const url = hostOfUrlLike(text);
    if (url !== undefined && isAddress(url.hostname)) return address;
    if (url !== undefined && url.hostname.includes('.')) {
      return `expected the IoT hub's host name only, not a URL: write "${url.hostname.replace(/\.$/, '')}"`;
    }
  }
  if (isAddress(text)) return address;
  if (!z.hostname().safeParse(text).success) {
    return `expected a host name for the IoT hub, ${example}`;
  }
  // A DNS name may end in a dot, but DPS compares the text with its linked hubs' host names.
  if (text.endsWith('.')) {
    const bare = text.replace(/\.+$/, '');
    return bare.includes('.')
      ? `has a dot at the end, which no linked hub's host name has: write "${bare}"`
      : `expected the IoT hub's host name, ${example}`;
  }
  if (!text.includes('.')) {
    return `expected the IoT hub's host name, not its name alone: write "${text}.azure-devices.net" (the host name on the hub's overview page)`;
  }
  return undefined;
}

/**
 * An IP address (IPv4 or IPv6, bracketed or not), or a name whose last label is all digits,
 * which no top-level domain is (`10.0.0.1`, and `10.0.1` that resolvers read as one too).
 */
function isAddress(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) !== 0 || /\.\d+\.?$/.test(bare);
}

export const iotHubSchema = z.string({ error: 'expected a string' }).superRefine((text, ctx) => {
  const problem = iotHubProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
