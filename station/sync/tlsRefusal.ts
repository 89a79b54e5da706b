/**
 * What the station refused about a DPS server's certificate, in words that send a supervisor to
 * the right cause. The DPS client tells which check failed (DpsError's `tls`, classified from
 * node's code in dps/http/tlsRefusalCodes.ts); this file only words it. An issuer the station
 * does not trust (the emulator's own CA, a TLS-inspecting proxy) is fixed with
 * LINE_STATION_DPS_CA or the machine's CAs; a certificate made out for another host name is
 * fixed in the connection string, and no CA helps; one out of its dates points at a clock first.
 */
import type { DpsTlsRefusalKind } from '../../dps/dpsErrors.js';

/** The variable naming an extra CA file the station trusts for DPS (the emulator's). */
export const DPS_CA_ENV = 'LINE_STATION_DPS_CA';

const WAITS = 'so nothing is sent; enrollments wait';

// A Record, not a switch: a new kind in dps/ does not compile until it has its words here.
const TEXT: Readonly<Record<DpsTlsRefusalKind, string>> = {
  'untrusted-issuer': `The station does not trust the issuer of the DPS server's certificate (its chain ends at no CA the station trusts), ${WAITS}. For a DPS that is not Azure's (the station emulator), ${DPS_CA_ENV} must name its CA certificate file (the one the emulator prints): set it for serve, sync now and bundle sync alike. For Azure's DPS, check this machine's CA certificates (a proxy that inspects TLS puts its own CA in the chain).`,
  hostname: `The DPS server's certificate is not made out for the host name the station called, ${WAITS}. A supervisor must check the DPS host name in the connection string (station sync set-connection); for the station emulator, use an address it prints. ${DPS_CA_ENV} does not change this.`,
  expired: `The DPS server's certificate has expired, ${WAITS}. A supervisor must first check this station's date and time (a clock set ahead makes a good certificate look expired); if they are right, whoever runs that DPS must renew its certificate. ${DPS_CA_ENV} does not change this.`,
  'not-yet-valid': `The DPS server's certificate is not valid yet, ${WAITS}. This station's clock is most likely behind: a supervisor must set its date and time (or its time server). If they are right, whoever runs that DPS must give it a certificate valid today. ${DPS_CA_ENV} does not change this.`,
  rejected: `A certificate authority in the DPS server's certificate chain is marked on this station as not to be trusted for servers, ${WAITS}. A supervisor must check this machine's CA certificates and, for a DPS that is not Azure's (the station emulator), the CA certificate file ${DPS_CA_ENV} names: it must be a plain CA certificate, not one marked as refused.`,
  'bad-signature': `A signature in the DPS server's certificate chain does not match the certificate authority it names, ${WAITS}. Either something between the station and DPS (a proxy) altered the certificate, or the CA certificate the station has for it is another one of the same name. A supervisor must check the network path to DPS and, for a DPS that is not Azure's (the station emulator), that ${DPS_CA_ENV} names that DPS's current CA certificate file.`,
};

/** Only for text that no longer says which check failed (an old row, the code's default). */
const UNKNOWN = `The station does not trust the DPS server's certificate, ${WAITS}. A supervisor must check the DPS host name and, for a DPS that is not Azure's (the station emulator), that ${DPS_CA_ENV} names its CA certificate file.`;

/** What the station refused and what a supervisor does about it; undefined: it cannot tell. */
export function untrustedDpsText(kind: DpsTlsRefusalKind | undefined): string {
  return kind === undefined ? UNKNOWN : TEXT[kind];
}
