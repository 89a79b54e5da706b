import { randomUUID } from 'node:crypto';
import type { EmulatorResponse } from './httpJson.js';

/**
 * The emulator's DPS error answers (dps-protocol.md §1.9): a JSON body
 * `{errorCode, trackingId, message, timestampUtc}` plus the `x-ms-error-code` header, where the
 * six-digit code starts with the HTTP status. 401002 and 404201 are codes real DPS sends; the
 * others follow the same `status * 1000 + n` pattern and never change meaning.
 */
export const ErrorCodes = {
  badRequest: 400001,
  invalidJson: 400002,
  apiVersionMissing: 400003,
  invalidRecord: 400004,
  bulkInvalid: 400005,
  invalidContinuation: 400006,
  registrationIdMismatch: 400007,
  /** In `registrationState.errorCode` of a failed registration: no hub could be assigned. */
  allocationFailed: 400208,
  unauthorized: 401002,
  routeNotFound: 404001,
  enrollmentNotFound: 404201,
  enrollmentGroupNotFound: 404202,
  registrationNotFound: 404203,
  operationNotFound: 404204,
  methodNotAllowed: 405001,
  conflict: 409201,
  preconditionFailed: 412201,
  payloadTooLarge: 413001,
  unsupportedMediaType: 415001,
  throttled: 429001,
  internalError: 500001,
  serviceUnavailable: 503001,
} as const;

/** A request the emulator refuses. Handlers throw it; the pipeline turns it into a DPS error. */
export class DpsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DpsHttpError';
  }
}

/** `400 …`: the request body or parameters are invalid. */
export function badRequest(message: string, code: number = ErrorCodes.invalidRecord): DpsHttpError {
  return new DpsHttpError(400, code, message);
}

/** `401 401002`: authentication failed. The message says why, never echoing a token. */
export function unauthorized(reason: string): DpsHttpError {
  return new DpsHttpError(401, ErrorCodes.unauthorized, `Unauthorized: ${reason}`);
}

/** The JSON error body DPS sends, with its `x-ms-error-code` header. */
export function errorResponse(
  status: number,
  errorCode: number,
  message: string,
  headers: Record<string, string> = {},
): EmulatorResponse {
  return {
    status,
    headers: { ...headers, 'x-ms-error-code': String(errorCode) },
    body: {
      errorCode,
      trackingId: randomUUID(),
      message,
      timestampUtc: new Date().toISOString(),
    },
  };
}

/** The answer for anything a handler threw: its DpsHttpError, or a 500 that hides internals. */
export function responseForError(err: unknown): EmulatorResponse {
  if (err instanceof DpsHttpError) {
    return errorResponse(err.status, err.errorCode, err.message, err.headers);
  }
  return errorResponse(500, ErrorCodes.internalError, 'Internal error in the DPS emulator.');
}
