/**
 * Who may open the headless station's API: a browser page served by this station (Origin check,
 * against cross-site WebSocket hijacking) that also holds this run's session token (so another
 * local user or a DNS-rebinding page that guesses the port still gets nothing).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** A fresh random 32-byte token, base64url, for one run of the server. */
export function createSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Constant-time comparison. Both sides are hashed first so neither the content nor the length of
 * the real token leaks through timing.
 */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string' || presented.length > 1024) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** True for addresses only this computer can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * True when a connection's peer address (`socket.remoteAddress`) is this machine's loopback,
 * IPv4-mapped forms included. Undefined (a socket already gone) is not.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return isLoopbackHost(mapped ? mapped[1]! : address);
}

/** True for "listen on every interface". */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The host the printed page URL names for a server on `host`: a wildcard server is reachable on
 * loopback too, the one address sure to work from this machine.
 */
export function pageHost(host: string): string {
  return isWildcardHost(host) ? '127.0.0.1' : urlHost(host);
}

/** What the station logs when it listens where other computers can reach it; none on loopback. */
export function networkExposureWarning(host: string): string[] {
  if (isLoopbackHost(host)) return [];
  const rule = '!'.repeat(78);
  return [
    rule,
    `WARNING: the station API listens on ${host}, which other computers can reach.`,
    'Anyone on that network who gets the page URL (with its token) can run this line.',
    'Use --host 127.0.0.1 (the default) unless a supervisor screen really needs it.',
    rule,
  ];
}

/** `host` as it appears in a URL (IPv6 in brackets). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The origins a page of this server can have. A page may be opened as 127.0.0.1, localhost or
 * [::1] when the server is on loopback; on a named address only under that address. On a
 * wildcard address the station cannot know every name it is reached by, so the origin must match
 * the Host header of the request (the token still guards against a rebinding page).
 */
export function originAllowed(
  origin: string | undefined,
  request: { bindHost: string; port: number; hostHeader: string | undefined },
): boolean {
  if (!origin) return false;
  const { bindHost, port, hostHeader } = request;
  const names = isLoopbackHost(bindHost)
    ? ['127.0.0.1', 'localhost', '[::1]', urlHost(bindHost)]
    : [urlHost(bindHost)];
  if (names.some((name) => origin === `http://${name}:${port}`)) return true;
  return isWildcardHost(bindHost) && hostHeader !== undefined && origin === `http://${hostHeader}`;
}
