import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';

/**
 * Where a DPS request goes. DPS itself always listens on 443 under a DNS name; the emulator and
 * the tests listen on `127.0.0.1:<port>`, so the host name from a connection string or a global
 * endpoint may carry a port.
 */
export interface DpsEndpoint {
  host: string;
  port: number;
  /** TLS SNI; absent for IP literals, where SNI is not allowed (RFC 6066 §3). */
  servername?: string;
}

/** Splits `host` or `host:port` (IPv6 as `[::1]:port`). Throws RangeError on anything else. */
export function parseDpsEndpoint(hostAndPort: string): DpsEndpoint {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+))(?::(\d{1,5}))?$/.exec(hostAndPort.trim());
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined) {
    throw new RangeError(`not a host or host:port: ${JSON.stringify(hostAndPort)}`);
  }
  const port = match[3] === undefined ? 443 : Number(match[3]);
  if (port < 1 || port > 65_535) throw new RangeError(`port out of range in ${hostAndPort}`);
  return isIP(host) === 0 ? { host, port, servername: host } : { host, port };
}

/**
 * Trust anchors for a DPS connection. An extra CA (the emulator's) is added to Node's public
 * roots rather than replacing them, because Node's `ca` option replaces the default store.
 */
export function trustAnchors(extraCaPem: string | undefined): string[] | undefined {
  return extraCaPem === undefined ? undefined : [...rootCertificates, extraCaPem];
}
