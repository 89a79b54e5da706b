/**
 * Errors of the DPS wire, client side. Each carries a stable code, operator text saying what to
 * do, and a detail for the log (never a key or a token). Codes never change meaning; new cases get
 * new codes. `retryable` tells the sync worker whether waiting and trying again can help.
 */
export const dpsErrorText = {
  DPS_CONNECTION_STRING_INVALID:
    'The DPS connection string cannot be read. Paste it again from the DPS "Shared access policies" page.',
  DPS_CONNECTION_STRING_IOT_HUB:
    "This is an IoT hub's connection string (its HostName ends in azure-devices.net or a sovereign cloud's azure-devices.*), not the Device Provisioning Service's. Take DPS's: in the Azure portal open the DPS resource (HostName …azure-devices-provisioning.net), then Shared access policies, a policy with enrollment write rights, and copy its primary connection string.",
  DPS_UNAUTHORIZED:
    "DPS refused the station's credentials. A supervisor must check the DPS connection string (key and policy).",
  DPS_CLOCK_WRONG:
    "DPS refused the station's sign-in because this station's clock is behind: its tokens arrive already expired. A supervisor must set the station's date and time (or its time server); nothing needs to change in the DPS connection.",
  DPS_FORBIDDEN: 'The DPS access policy lacks a permission the station needs (EnrollmentWrite).',
  DPS_NOT_FOUND: 'DPS holds no such record.',
  DPS_CONFLICT: 'DPS already holds this record with other content.',
  DPS_PRECONDITION_FAILED:
    'The record changed in DPS since the station last read it (ETag mismatch). The station re-reads it.',
  DPS_BAD_REQUEST:
    'DPS refused the request as invalid. Engineering must check the product profile.',
  DPS_THROTTLED: 'DPS is limiting the rate of requests. The station waits and tries again.',
  DPS_SERVER_ERROR: 'DPS had an internal error. The station waits and tries again.',
  DPS_UNREACHABLE:
    'DPS cannot be reached (network down or offline). The station keeps the queue and retries.',
  DPS_HOST_NOT_FOUND:
    "The DPS host name does not resolve to an address (DNS has no such name). A supervisor must check the host name in the DPS connection string (`station sync set-connection`), or this machine's DNS settings. The station keeps the queue and retries.",
  DPS_CONNECTION_REFUSED:
    'The DPS host refused the connection: nothing accepts it on that port. A supervisor must check the host name and port in the DPS connection string (`station sync set-connection`) and any proxy or firewall on the way; on a DEMO or training line, that the DPS emulator is running on that port (`station emulator --port N`). The station keeps the queue and retries.',
  DPS_TIMEOUT: 'DPS did not answer in time. The station waits and tries again.',
  DPS_TLS_UNTRUSTED:
    "The DPS server's certificate is not trusted (its issuer, or the host name it is made out for), so nothing was sent. A supervisor must check the DPS host name and the certificate authorities trusted for it.",
  DPS_RESPONSE_INVALID:
    'DPS sent an answer the station cannot read. The station tries again later.',
  DPS_REGISTRATION_FAILED: 'The device could not register with DPS.',
  DPS_UNEXPECTED_STATUS:
    "Something between the station and DPS answered instead of DPS, with an HTTP status DPS does not send (the log names it: 407 is a proxy asking for a sign-in, 3xx a redirect to another address), so the enrollments were not looked at. A supervisor must check the network's proxy settings and the host name in the DPS connection string (`station sync set-connection`). The station keeps the queue and retries.",
} as const;

export type DpsErrorCode = keyof typeof dpsErrorText;

/**
 * Which check the DPS server's certificate failed, named by what fixes it (DPS_TLS_UNTRUSTED's
 * own text cannot say, and each needs a different hand):
 * - `untrusted-issuer`: its chain ends at no CA the station trusts (a private CA such as the
 *   emulator's, a self-signed certificate, a TLS-inspecting proxy): trust that CA.
 * - `hostname`: it is made out for another host name: fix the host the station calls.
 * - `expired`, `not-yet-valid`: outside its dates: check the station's clock, then renew it.
 * - `rejected`: a CA in its chain is trusted on this machine, but marked as refused for servers.
 * - `bad-signature`: a signature in its chain does not verify: altered on the way, or checked
 *   against the wrong CA certificate.
 */
export type DpsTlsRefusalKind =
  'untrusted-issuer' | 'hostname' | 'expired' | 'not-yet-valid' | 'rejected' | 'bad-signature';

/** The TLS refusal behind a DPS_TLS_UNTRUSTED, classified once by the HTTPS client. */
export interface DpsTlsRefusal {
  readonly kind: DpsTlsRefusalKind;
  /** Node's code for it (ERR_TLS_CERT_ALTNAME_INVALID, or OpenSSL's verify result), for the log. */
  readonly nodeCode: string;
}

/** Codes that waiting can cure; everything else needs a person or a different request. */
const RETRYABLE: ReadonlySet<DpsErrorCode> = new Set([
  'DPS_THROTTLED',
  'DPS_SERVER_ERROR',
  'DPS_UNREACHABLE',
  // A mistyped host stays wrong, but a name DNS has not learnt yet (a new DPS) may resolve later.
  'DPS_HOST_NOT_FOUND',
  // A wrong port stays wrong, but a DPS emulator, or a proxy, that is restarting comes back.
  'DPS_CONNECTION_REFUSED',
  'DPS_TIMEOUT',
  'DPS_RESPONSE_INVALID',
  // A proxy asking for a sign-in, or a redirect, is the network's: fixed there, then it passes.
  'DPS_UNEXPECTED_STATUS',
]);

export interface DpsErrorOptions {
  /** HTTP status, when DPS answered. */
  status?: number;
  /** DPS's six-digit errorCode from the body (ProvisioningServiceErrorDetails). */
  dpsErrorCode?: number;
  trackingId?: string;
  /** Retry-After in milliseconds, when DPS sent one. */
  retryAfterMs?: number;
  detail?: string;
  /** What the server's certificate failed; set with DPS_TLS_UNTRUSTED only. */
  tls?: DpsTlsRefusal;
  cause?: unknown;
}

export class DpsError extends Error {
  readonly status: number | undefined;
  readonly dpsErrorCode: number | undefined;
  readonly trackingId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string | undefined;
  readonly tls: DpsTlsRefusal | undefined;

  constructor(
    readonly code: DpsErrorCode,
    options: DpsErrorOptions = {},
  ) {
    super(dpsErrorText[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DpsError';
    this.status = options.status;
    this.dpsErrorCode = options.dpsErrorCode;
    this.trackingId = options.trackingId;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
    this.tls = options.tls;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/**
 * Statuses that refuse the request itself (its body, its media type, its method on that path):
 * the sync reads them as a verdict on the enrollments it sent, splits the batch and fails the
 * rows DPS still refuses alone. 400, 405 and 415 are DPS's own (dps-protocol.md §1.9); 413 and
 * 422 say the same of a body in plain HTTP, and a smaller batch may pass a 413.
 */
const REQUEST_REFUSED: ReadonlySet<number> = new Set([400, 405, 413, 415, 422]);

/**
 * The error code for an HTTP status DPS answered with (dps-protocol.md §1.9). A status that is
 * not DPS's (a redirect, a proxy's 407, 421, 431…) says nothing about the enrollments, so it is
 * DPS_UNEXPECTED_STATUS, which holds the sync worker, rather than DPS_BAD_REQUEST, which would
 * fail every row at once.
 */
export function dpsErrorCodeForStatus(status: number): DpsErrorCode {
  if (REQUEST_REFUSED.has(status)) return 'DPS_BAD_REQUEST';
  if (status === 401) return 'DPS_UNAUTHORIZED';
  if (status === 403) return 'DPS_FORBIDDEN';
  if (status === 404) return 'DPS_NOT_FOUND';
  if (status === 409) return 'DPS_CONFLICT';
  if (status === 412) return 'DPS_PRECONDITION_FAILED';
  if (status === 429) return 'DPS_THROTTLED';
  if (status === 408) return 'DPS_TIMEOUT';
  if (status >= 500) return 'DPS_SERVER_ERROR';
  return 'DPS_UNEXPECTED_STATUS';
}
