/**
 * What the station refused about a DPS server's certificate, in words that send a supervisor to
 * the right cause. Node's TLS error codes tell them apart: an issuer the station does not trust
 * (the emulator's own CA, a TLS-inspecting proxy) is fixed with LINE_STATION_DPS_CA or the
 * machine's CAs; a certificate made out for another host name is fixed in the connection string,
 * and no CA helps; an expired one points at a clock first.
 */

/** The variable naming an extra CA file the station trusts for DPS (the emulator's). */
export const DPS_CA_ENV = 'LINE_STATION_DPS_CA';

export type TlsRefusal = 'issuer' | 'host-name' | 'dates' | 'other';

/** Node's codes for a chain that ends at no CA the station trusts. */
const ISSUER_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);
const HOST_NAME_CODES: ReadonlySet<string> = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);
const DATE_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const ALL_CODES = [...ISSUER_CODES, ...HOST_NAME_CODES, ...DATE_CODES];

/** The refusal a node TLS error code stands for. */
export function tlsRefusalOfCode(code: string | undefined): TlsRefusal {
  if (code === undefined) return 'other';
  if (ISSUER_CODES.has(code)) return 'issuer';
  if (HOST_NAME_CODES.has(code)) return 'host-name';
  if (DATE_CODES.has(code)) return 'dates';
  return 'other';
}

/**
 * The refusal behind a DPS_TLS_UNTRUSTED error: the code of node's error it was made from (its
 * `cause`), else the first node code its detail names (`POST /enrollments: CODE: text`, as the
 * HTTPS client and an outbox row's `last_error` write it).
 */
export function tlsRefusalOf(err: unknown): TlsRefusal {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return tlsRefusalOfCode(cause.code);
  const detail = (err as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? tlsRefusalIn(detail) : 'other';
}

/** The refusal a text names by node's code (a row's `last_error`, an error's detail). */
export function tlsRefusalIn(text: string): TlsRefusal {
  const code = ALL_CODES.find((c) => new RegExp(`\\b${c}\\b`).test(text));
  return tlsRefusalOfCode(code);
}

/** What the station refused and what a supervisor does about it, naming LINE_STATION_DPS_CA. */
export function untrustedDpsText(refusal: TlsRefusal): string {
  const waits = 'so nothing is sent; enrollments wait';
  switch (refusal) {
    case 'issuer':
      return `The station does not trust the issuer of the DPS server's certificate (its chain ends at no CA the station trusts), ${waits}. For a DPS that is not Azure's (the station emulator), ${DPS_CA_ENV} must name its CA certificate file (the one the emulator prints): set it for serve, sync now and bundle sync alike. For Azure's DPS, check this machine's CA certificates (a proxy that inspects TLS puts its own CA in the chain).`;
    case 'host-name':
      return `The DPS server's certificate is not made out for the host name the station called, ${waits}. A supervisor must check the DPS host name in the connection string (station sync set-connection); for the station emulator, use an address it prints. ${DPS_CA_ENV} does not change this.`;
    case 'dates':
      return `The DPS server's certificate is expired or not valid yet, ${waits}. A supervisor must check this station's date and time, then the DPS server's certificate.`;
    case 'other':
      return `The station does not trust the DPS server's certificate, ${waits}. A supervisor must check the DPS host name and, for a DPS that is not Azure's (the station emulator), that ${DPS_CA_ENV} names its CA certificate file.`;
  }
}
