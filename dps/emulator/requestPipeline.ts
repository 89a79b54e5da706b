import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { DpsHttpError, ErrorCodes, errorResponse, responseForError } from './errorBodies.js';
import type { FaultDecision, FaultInjector } from './faultInjector.js';
import {
  type EmulatorRequest,
  type EmulatorResponse,
  header,
  pathSegments,
  readBody,
  writeResponse,
} from './httpJson.js';
import type { FixedWindowRateLimiter, RateKind } from './rateLimiter.js';
import { matchRoute, type Route } from './routeTable.js';
import { authenticateService, type ServiceCredentials } from './serviceAuth.js';

/**
 * What every request goes through, in order:
 * 1. the injected fault for this request (server error, throttle and reset-before answer without
 *    applying anything; reset-after applies the request, then destroys the socket);
 * 2. routing (404/405), then the rate limit: every call is an operation, a register PUT also a
 *    registration; a refused call gets 429 with Retry-After and does not count;
 * 3. api-version (400 when missing) and, for the service API, SAS authentication;
 * 4. the route's handler.
 * The configured latency is added before any answer (or reset) goes out.
 */
export interface PipelineCounters {
  requests: number;
  operations: number;
  throttled429: number;
  injected: { serverErrors: number; resets: number; throttles: number };
}

export interface PipelineContext {
  routes: readonly Route[];
  faults: FaultInjector;
  limiter: FixedWindowRateLimiter;
  /** Set once the server listens (the accepted host names include the port). */
  credentials: () => ServiceCredentials;
  /** The emulator's clock: service SAS expiry and the Date header. */
  nowMs: () => number;
  counters: PipelineCounters;
  log: (line: string) => void;
}

const RESET = Symbol('reset');

export function createRequestHandler(
  context: PipelineContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(context, req, res).catch(() => {
      // Nothing can be answered any more (the socket is gone); never crash the emulator.
      req.socket.destroy();
    });
  };
}

async function handle(
  context: PipelineContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  context.counters.requests += 1;
  const decision = context.faults.decide();
  let response: EmulatorResponse | typeof RESET;
  try {
    const rawBody = await readBody(req);
    response = await respond(context, decision, req, rawBody);
  } catch (err) {
    response = responseForError(err);
  }
  const latency = context.faults.latencyMs;
  if (latency > 0) await delay(latency);
  if (response === RESET) {
    req.socket.destroy();
    return;
  }
  // Clients learn DPS's time from this header: it must be the clock that judged the token.
  res.setHeader('date', new Date(context.nowMs()).toUTCString());
  writeResponse(res, response);
}

async function respond(
  context: PipelineContext,
  decision: FaultDecision,
  req: IncomingMessage,
  rawBody: Buffer,
): Promise<EmulatorResponse | typeof RESET> {
  const { counters } = context;
  switch (decision) {
    case 'serverError500':
    case 'serverError503': {
      counters.injected.serverErrors += 1;
      const status = decision === 'serverError500' ? 500 : 503;
      const code = status === 500 ? ErrorCodes.internalError : ErrorCodes.serviceUnavailable;
      return errorResponse(status, code, 'Injected fault: the service had an error.');
    }
    case 'throttle':
      counters.injected.throttles += 1;
      counters.throttled429 += 1;
      return errorResponse(429, ErrorCodes.throttled, 'Injected fault: too many requests.', {
        'retry-after': '1',
      });
    case 'resetBefore':
      counters.injected.resets += 1;
      return RESET;
    default:
      break;
  }
  const response = await dispatch(context, req, rawBody).catch(responseForError);
  if (decision === 'resetAfter') {
    counters.injected.resets += 1;
    return RESET;
  }
  return response;
}

async function dispatch(
  context: PipelineContext,
  req: IncomingMessage,
  rawBody: Buffer,
): Promise<EmulatorResponse> {
  const url = new URL(req.url ?? '/', 'https://emulator.invalid');
  const segments = pathSegments(url.pathname);
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(context.routes, method, segments);
  const kinds: RateKind[] =
    match.route?.kind === 'register' ? ['operations', 'registrations'] : ['operations'];
  const admission = context.limiter.admit(kinds);
  if (!admission.admitted) {
    context.counters.throttled429 += 1;
    throw new DpsHttpError(
      429,
      ErrorCodes.throttled,
      'Too many requests: the rate limit is exceeded.',
      {
        'retry-after': String(admission.retryAfterSeconds),
      },
    );
  }
  context.counters.operations += 1;
  if (match.route === undefined) {
    if (match.allowedMethods.length > 0) {
      throw new DpsHttpError(
        405,
        ErrorCodes.methodNotAllowed,
        `Method ${method} is not allowed here.`,
        {
          allow: match.allowedMethods.join(', '),
        },
      );
    }
    throw new DpsHttpError(404, ErrorCodes.routeNotFound, 'Not found: no such resource.');
  }
  if (!url.searchParams.get('api-version')) {
    throw new DpsHttpError(
      400,
      ErrorCodes.apiVersionMissing,
      'The api-version query parameter is required.',
    );
  }
  const request: EmulatorRequest = {
    method,
    segments,
    query: url.searchParams,
    headers: req.headers,
    rawBody,
    socket: req.socket as TLSSocket,
  };
  if (match.route.kind === 'service') {
    authenticateService(
      header(request, 'authorization'),
      context.credentials(),
      segments,
      Math.floor(context.nowMs() / 1000),
    );
  }
  return match.route.handle(request, match.params);
}
