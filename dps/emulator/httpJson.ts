import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { DpsHttpError, ErrorCodes, badRequest } from './errorBodies.js';

/** DPS refuses messages over 96 KB (dps-protocol.md §3). */
export const MAX_BODY_BYTES = 96 * 1024;

/** What a handler answers. The pipeline writes it (or, for an injected reset, drops it). */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON; absent for bodiless answers such as 204. */
  body?: unknown;
}

/** One request as the handlers see it: path split into decoded segments, body already read. */
export interface EmulatorRequest {
  method: string;
  /** Decoded path segments; a trailing `/` is ignored. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  socket: TLSSocket;
}

/** A header's single value (the first, if repeated). */
export function header(
  request: { headers: IncomingHttpHeaders },
  name: string,
): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request body as JSON. An empty body is `undefined`; a body that is not JSON is a 400, and a
 * declared non-JSON content type a 415.
 */
export function jsonBody(request: EmulatorRequest): unknown {
  if (request.rawBody.length === 0) return undefined;
  const type = header(request, 'content-type');
  if (type !== undefined && !/json/i.test(type)) {
    throw new DpsHttpError(
      415,
      ErrorCodes.unsupportedMediaType,
      'The request body must be application/json.',
    );
  }
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON.', ErrorCodes.invalidJson);
  }
}

/** Reads the whole body, refusing more than MAX_BODY_BYTES with a 413. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new DpsHttpError(
        413,
        ErrorCodes.payloadTooLarge,
        `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Splits a URL path into decoded segments; a malformed escape is a 400. */
export function pathSegments(pathname: string): string[] {
  const parts = pathname.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    throw badRequest('The request path has a malformed escape.', ErrorCodes.badRequest);
  }
}

/** Writes a response; bodies always go out as `application/json; charset=utf-8`. */
export function writeResponse(res: ServerResponse, response: EmulatorResponse): void {
  const headers: Record<string, string | number> = { ...response.headers };
  let payload: Buffer | undefined;
  if (response.body !== undefined) {
    payload = Buffer.from(JSON.stringify(response.body), 'utf8');
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  headers['content-length'] = payload?.length ?? 0;
  res.writeHead(response.status, headers);
  res.end(payload);
}

/** A 200 (or other) JSON answer. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): EmulatorResponse {
  return { status, headers, body };
}
