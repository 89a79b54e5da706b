import { DpsError, type DpsErrorCode } from '../dpsErrors.js';
import type { HttpsExchangeResponse } from './httpsExchange.js';
import { parseRetryAfterMs } from './retryAfter.js';

/** A DPS error body (ProvisioningServiceErrorDetails, dps-protocol.md §1.9), fields as trusted. */
export interface DpsErrorBody {
  errorCode?: number;
  trackingId?: string;
  message?: string;
}

/** Long enough for any DPS message; short enough that a stray HTML page does not flood the log. */
const MAX_MESSAGE_CHARS = 300;

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * The DpsError for a non-2xx answer: `code` (the caller's mapping of the status), the status,
 * DPS's errorCode and trackingId when the body is JSON (else `x-ms-error-code`), and Retry-After.
 * `secrets` are cut out of the detail, in case a server echoes what it was sent.
 */
export function dpsErrorFromResponse(
  code: DpsErrorCode,
  where: string,
  response: HttpsExchangeResponse,
  secrets: readonly string[],
): DpsError {
  const body = readErrorBody(response);
  // Redacted before it is cut: a cut through a secret would leave a piece no pattern recognises.
  const message =
    body.message === undefined
      ? ''
      : `: ${withoutSecrets(body.message, secrets).slice(0, MAX_MESSAGE_CHARS)}`;
  return new DpsError(code, {
    status: response.status,
    dpsErrorCode: body.errorCode,
    trackingId: body.trackingId,
    retryAfterMs: parseRetryAfterMs(response.headers['retry-after']),
    detail: withoutSecrets(
      `${where}: HTTP ${response.status}${redirectedTo(response, secrets)}${message}`,
      secrets,
    ),
  });
}

/**
 * Where a redirect points, for the log: DPS never redirects, so a supervisor looking for what
 * answered instead (a captive portal, a proxy, a wrong host name) needs the address.
 */
function redirectedTo(response: HttpsExchangeResponse, secrets: readonly string[]): string {
  const location = response.headers['location'];
  if (response.status < 300 || response.status >= 400 || typeof location !== 'string') return '';
  return `, redirected to ${withoutSecrets(location, secrets).slice(0, MAX_MESSAGE_CHARS)}`;
}

function readErrorBody(response: HttpsExchangeResponse): DpsErrorBody {
  const result: DpsErrorBody = {};
  const headerCode = Number(response.headers['x-ms-error-code']);
  if (Number.isSafeInteger(headerCode)) result.errorCode = headerCode;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    return result;
  }
  if (!isRecord(parsed)) return result;
  const errorCode = Number(parsed['errorCode']);
  if (parsed['errorCode'] !== null && Number.isSafeInteger(errorCode)) result.errorCode = errorCode;
  if (typeof parsed['trackingId'] === 'string') result.trackingId = parsed['trackingId'];
  if (typeof parsed['message'] === 'string') result.message = parsed['message'];
  return result;
}

/**
 * The JSON body of a 2xx answer, checked by `accept`. Anything else is DPS_RESPONSE_INVALID;
 * the detail never quotes the body, which may hold keys (attestation mechanisms do).
 */
export function jsonBody<T>(
  where: string,
  response: HttpsExchangeResponse,
  accept: (value: unknown) => value is T,
  what: string,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw invalidResponse(where, response, `body is not JSON (${response.body.length} bytes)`);
  }
  if (!accept(parsed)) throw invalidResponse(where, response, `body is not ${what}`);
  return parsed;
}

export function invalidResponse(
  where: string,
  response: HttpsExchangeResponse,
  why: string,
): DpsError {
  return new DpsError('DPS_RESPONSE_INVALID', {
    status: response.status,
    detail: `${where}: HTTP ${response.status}, ${why}`,
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes SAS tokens, signatures and the given literal secrets from operator text. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let clean = text
    .replace(/SharedAccessSignature\s+\S+/g, 'SharedAccessSignature [redacted]')
    .replace(/\bsig=[^&\s"']+/g, 'sig=[redacted]');
  for (const secret of secrets) {
    // Too short a "secret" would shred ordinary words; real keys and tokens are long.
    if (secret.length < 8) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      clean = clean.split(form).join('[redacted]');
    }
  }
  return clean;
}
