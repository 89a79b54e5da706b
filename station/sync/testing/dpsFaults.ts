import { DpsError } from '../../../dps/dpsErrors.js';

/** Failures the in-memory DPS can be told to produce, as the HTTPS client would report them. */
export type DpsFault =
  | { kind: 'throttle'; retryAfterMs?: number }
  | { kind: 'server-error' }
  | { kind: 'bad-request' }
  | { kind: 'unauthorized' }
  /** The server's certificate was refused: nothing was sent. */
  | { kind: 'untrusted-certificate' }
  /** A 401 for a token DPS's clock saw expire: the station clock runs behind. */
  | { kind: 'clock-behind' }
  /** Connection refused: nothing reached DPS. */
  | { kind: 'unreachable' }
  /** The connection broke before or after DPS applied the request; the caller cannot tell. */
  | { kind: 'reset'; applied: boolean }
  | { kind: 'timeout'; applied: boolean };

/** A DPS refusal with its HTTP status and six-digit code, as the client would throw it. */
export function dpsRefusal(httpStatus: number, dpsErrorCode: number, message: string): DpsError {
  const codes: Record<number, ConstructorParameters<typeof DpsError>[0]> = {
    400: 'DPS_BAD_REQUEST',
    404: 'DPS_NOT_FOUND',
    409: 'DPS_CONFLICT',
    412: 'DPS_PRECONDITION_FAILED',
  };
  return new DpsError(codes[httpStatus] ?? 'DPS_BAD_REQUEST', {
    status: httpStatus,
    dpsErrorCode,
    detail: message,
  });
}

/** The error the client throws for a fault. */
export function faultError(fault: DpsFault): DpsError {
  switch (fault.kind) {
    case 'throttle':
      return new DpsError('DPS_THROTTLED', {
        status: 429,
        dpsErrorCode: 429001,
        ...(fault.retryAfterMs !== undefined && { retryAfterMs: fault.retryAfterMs }),
      });
    case 'server-error':
      return new DpsError('DPS_SERVER_ERROR', { status: 500, dpsErrorCode: 500000 });
    case 'bad-request':
      return new DpsError('DPS_BAD_REQUEST', { status: 400, dpsErrorCode: 400000 });
    case 'unauthorized':
      return new DpsError('DPS_UNAUTHORIZED', { status: 401, dpsErrorCode: 401002 });
    case 'unreachable':
      return new DpsError('DPS_UNREACHABLE', { detail: 'connect ECONNREFUSED 127.0.0.1:443' });
    case 'clock-behind':
      return new DpsError('DPS_CLOCK_WRONG', { status: 401, dpsErrorCode: 401002 });
    case 'untrusted-certificate':
      // As the HTTPS client makes it: the refusal classified (tlsRefusalCodes.ts).
      return new DpsError('DPS_TLS_UNTRUSTED', {
        detail: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate',
        tls: { kind: 'untrusted-issuer', nodeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      });
    case 'reset':
      return new DpsError('DPS_UNREACHABLE', { detail: 'socket hang up (ECONNRESET)' });
    case 'timeout':
      return new DpsError('DPS_TIMEOUT', { detail: 'no answer within 30 s' });
  }
}
