import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import { sendJson } from '../testing/loopbackHttpsServer.js';
import { startServiceFixture, type ServiceFixture } from '../testing/serviceFixture.js';
import type { DpsServiceClient } from './dpsServiceClient.js';

/**
 * How the service client fails: HTTP errors mapped to DpsError codes with DPS's errorCode,
 * trackingId and Retry-After; transport failures; timeouts; unreadable answers. Never a secret
 * in what it reports.
 */

let fx: ServiceFixture;
let client: DpsServiceClient;
beforeAll(async () => {
  fx = await startServiceFixture();
  client = fx.newClient();
});
afterAll(() => fx.close());

/** The DpsError `promise` rejects with; checks that nothing it carries holds a secret. */
async function failure(promise: Promise<unknown>): Promise<DpsError> {
  const error = await promise.then(
    () => {
      throw new Error('resolved, but should have failed');
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(DpsError);
  const dpsError = error as DpsError;
  const shown = JSON.stringify({ ...dpsError, message: dpsError.message, stack: dpsError.stack });
  expect(shown).not.toContain(fx.key);
  expect(shown).not.toContain('SharedAccessSignature sr');
  for (const request of fx.server.requests) {
    const sig = /sig=([^&]+)/.exec(request.headers.authorization ?? '')?.[1];
    if (sig !== undefined) expect(shown).not.toContain(sig);
  }
  return dpsError;
}

const errorBody = (status: number) => ({
  errorCode: status * 1000 + 1,
  trackingId: `track-${status}`,
  message: `status ${status}`,
  timestampUtc: '2026-11-22T10:00:00.0000000Z',
});

describe('DpsServiceClient: HTTP errors', () => {
  const statuses = [
    { status: 400, code: 'DPS_BAD_REQUEST', retryable: false },
    { status: 401, code: 'DPS_UNAUTHORIZED', retryable: false },
    { status: 409, code: 'DPS_CONFLICT', retryable: false },
    { status: 412, code: 'DPS_PRECONDITION_FAILED', retryable: false },
    { status: 429, code: 'DPS_THROTTLED', retryable: true },
    { status: 500, code: 'DPS_SERVER_ERROR', retryable: true },
    { status: 503, code: 'DPS_SERVER_ERROR', retryable: true },
  ] as const;

  it.each(statuses)('$status → $code with errorCode, trackingId, Retry-After', async (s) => {
    fx.server.handle((_req, res) =>
      sendJson(res, s.status, errorBody(s.status), { 'retry-after': '7' }),
    );
    const err = await failure(
      client.createOrUpdateEnrollment({ registrationId: 'd1', attestation: { type: 'none' } }),
    );
    expect(err).toMatchObject({
      code: s.code,
      status: s.status,
      dpsErrorCode: s.status * 1000 + 1,
      trackingId: `track-${s.status}`,
      retryAfterMs: 7000,
      retryable: s.retryable,
      detail: `PUT /enrollments/d1: HTTP ${s.status}: status ${s.status}`,
    });
  });

  it('reads Retry-After as an HTTP date, and caps it at ten minutes', async () => {
    const inThirty = new Date(Date.now() + 30_000).toUTCString();
    fx.server.handle((_req, res) =>
      sendJson(res, 429, errorBody(429), { 'retry-after': inThirty }),
    );
    const dated = await failure(client.getEnrollment('d1'));
    expect(dated.retryAfterMs).toBeGreaterThanOrEqual(28_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);

    fx.server.handle((_req, res) => sendJson(res, 503, errorBody(503), { 'retry-after': '3600' }));
    expect((await failure(client.getEnrollment('d1'))).retryAfterMs).toBe(600_000);
  });

  it('leaves retryAfterMs and errorCode out when DPS sends neither', async () => {
    fx.server.handle((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });
    const err = await failure(client.deleteEnrollment('d1'));
    expect(err).toMatchObject({
      code: 'DPS_SERVER_ERROR',
      status: 500,
      retryAfterMs: undefined,
      dpsErrorCode: undefined,
    });
    expect(err.detail).toBe('DELETE /enrollments/d1: HTTP 500');
  });

  it('a 404 is an error where absence is not an answer', async () => {
    fx.server.handle((_req, res) => sendJson(res, 404, errorBody(404)));
    expect((await failure(client.getEnrollmentAttestation('d1'))).code).toBe('DPS_NOT_FOUND');
    expect((await failure(client.deleteEnrollment('d1'))).code).toBe('DPS_NOT_FOUND');
  });

  it('never repeats a token or key that the server echoes back', async () => {
    fx.server.handle((req, res) =>
      sendJson(res, 401, {
        errorCode: 401002,
        message: `bad ${req.headers.authorization} key ${fx.key}`,
      }),
    );
    const err = await failure(client.getEnrollment('d1'));
    expect(err.code).toBe('DPS_UNAUTHORIZED');
    expect(err.detail).toContain('[redacted]');
  });
});

describe('DpsServiceClient: unreadable answers', () => {
  it('a 2xx body that is not JSON is DPS_RESPONSE_INVALID (retryable)', async () => {
    fx.server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('welcome to the captive portal');
    });
    const err = await failure(client.getEnrollment('d1'));
    expect(err).toMatchObject({ code: 'DPS_RESPONSE_INVALID', status: 200, retryable: true });
  });

  it('a 2xx body of the wrong shape is DPS_RESPONSE_INVALID, without quoting it', async () => {
    const secretKey = 'U0VDUkVULUtFWS1JTi1CT0RZLTEyMzQ1Njc4OTA=';
    fx.server.handle((_req, res) =>
      sendJson(res, 200, { symmetricKey: { primaryKey: secretKey } }),
    );
    const err = await failure(client.getEnrollmentAttestation('d1'));
    expect(err.code).toBe('DPS_RESPONSE_INVALID');
    expect(JSON.stringify(err)).not.toContain(secretKey);

    fx.server.handle((_req, res) => sendJson(res, 200, { items: [] }));
    expect((await failure(client.queryEnrollments('SELECT *'))).code).toBe('DPS_RESPONSE_INVALID');
  });
});

describe('DpsServiceClient: transport failures', () => {
  it('a header Node refuses rejects the call (a programming error), sending nothing', async () => {
    const before = fx.server.requests.length;
    await expect(client.deleteEnrollment('d1', 'etag\r\nx-evil: 1')).rejects.toThrow(TypeError);
    expect(fx.server.requests).toHaveLength(before);
  });

  it('the server destroying the socket is DPS_UNREACHABLE (retryable)', async () => {
    fx.server.handle((_req, res) => {
      res.socket?.destroy();
    });
    const err = await failure(client.getEnrollment('d1'));
    expect(err).toMatchObject({ code: 'DPS_UNREACHABLE', retryable: true, status: undefined });
    expect(err.detail).toMatch(/^GET \/enrollments\/d1: /);
  });

  it('a response cut off mid-body is DPS_UNREACHABLE', async () => {
    fx.server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"registrationId":', () => res.socket?.destroy());
    });
    expect((await failure(client.getEnrollment('d1'))).code).toBe('DPS_UNREACHABLE');
  });

  it('a refused connection is DPS_CONNECTION_REFUSED naming ECONNREFUSED, still retryable', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const closedPort = fx.newClient({
      connectionString: fx.connectionString.replace(fx.server.hostName, `127.0.0.1:${port}`),
    });
    const err = await failure(closedPort.getEnrollment('d1'));
    expect(err).toMatchObject({ code: 'DPS_CONNECTION_REFUSED', retryable: true });
    expect(err.detail).toContain('ECONNREFUSED');
  });

  it('a server certificate the client does not trust is DPS_TLS_UNTRUSTED, for a person', async () => {
    fx.server.handle((_req, res) => sendJson(res, 200, { registrationId: 'd1' }));
    const untrusting = fx.newClient({ ca: undefined });
    const before = fx.server.requests.length;
    const err = await failure(untrusting.getEnrollment('d1'));
    expect(err).toMatchObject({ code: 'DPS_TLS_UNTRUSTED', retryable: false });
    expect(err.message).toContain('certificate is not trusted');
    expect(fx.server.requests).toHaveLength(before);
  });

  it('no answer within timeoutMs is DPS_TIMEOUT, and the request is abandoned', async () => {
    let closed: Promise<unknown> | undefined;
    fx.server.handle((_req, res) => {
      closed = once(res, 'close'); // never answered
    });
    const impatient = fx.newClient({ timeoutMs: 300 });
    const err = await failure(impatient.getEnrollment('d1'));
    expect(err).toMatchObject({ code: 'DPS_TIMEOUT', retryable: true });
    expect(err.detail).toContain('300 ms');
    // The client destroyed its socket: the server sees the exchange closed.
    expect(closed).toBeDefined();
    await closed;
  });
});
