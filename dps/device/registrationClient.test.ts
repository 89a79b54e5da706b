import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceKey, parseSasToken, sasResource, sasSignatureMatches } from '../auth/sas.js';
import { DpsError } from '../dpsErrors.js';
import {
  sendJson,
  startLoopbackHttpsServer,
  type LoopbackHandler,
  type LoopbackHttpsServer,
  type RecordedRequest,
} from '../testing/loopbackHttpsServer.js';
import { createLoopbackTls, type LoopbackTls, type PemIdentity } from '../testing/loopbackTls.js';
import { registerDevice, type RegisterDeviceOptions } from './registrationClient.js';

/**
 * The device registration client against a real HTTPS server on loopback that checks what DPS
 * checks: the TLS client certificate's chain and CN (X.509), or the SAS signature (symmetric key).
 */

const SCOPE = '0ne00A1B2C3';
const X509_ID = 'dev-x509-01';
const SYM_ID = 'dev-sym-01';
const GROUP_KEY = randomBytes(64).toString('base64');
const DEVICE_KEY = deriveDeviceKey(GROUP_KEY, SYM_ID);

let tls: LoopbackTls;
let server: LoopbackHttpsServer;
let device: PemIdentity;
let stranger: PemIdentity;

beforeAll(async () => {
  tls = await createLoopbackTls({ clientCommonNames: [X509_ID] });
  const otherPki = await createLoopbackTls({ clientCommonNames: [X509_ID] });
  device = tls.clients.get(X509_ID)!;
  stranger = otherPki.clients.get(X509_ID)!;
  server = await startLoopbackHttpsServer(tls, { requestClientCertificate: true });
});
afterAll(() => server.close());

const assignedState = (registrationId: string) => ({
  registrationId,
  assignedHub: 'demo-hub-1.azure-devices.net',
  deviceId: registrationId,
  status: 'assigned',
  substatus: 'initialAssignment',
  etag: 'ImV0YWci',
});

/** The poll answer once DPS has assigned the device (`status` as the scripted DPS spells it). */
const assignedReply = (registrationId: string, status = 'assigned') => ({
  status: 200,
  body: { operationId: 'op 1', status, registrationState: assignedState(registrationId) },
});

/** Why DPS would refuse this request, or undefined: the attestation checks of §2.3 and §2.4. */
function attestationProblem(req: RecordedRequest, registrationId: string): string | undefined {
  if (registrationId === X509_ID) {
    if (req.headers.authorization !== undefined) return 'X.509 sends no Authorization';
    if (!req.peerAuthorized) return 'client certificate does not chain to a verified CA';
    if (req.peerCommonName !== registrationId) return `CN ${req.peerCommonName}`;
    return undefined;
  }
  const fields = parseSasToken(req.headers.authorization ?? '');
  if (fields === undefined || fields.skn !== 'registration') return 'no registration SAS';
  if (sasResource(fields) !== `${SCOPE}/registrations/${registrationId}`.toLowerCase()) return 'sr';
  if (fields.se <= Date.now() / 1000) return 'expired';
  return sasSignatureMatches(fields, DEVICE_KEY) ? undefined : 'signature';
}

/**
 * A scripted DPS: checks attestation on every request (401 401002 if it fails), then answers the
 * register PUT with `assigning` and each poll with the next of `polls` (the last one repeats).
 */
function scriptedDps(
  registrationId: string,
  polls: Array<{ status: number; body: unknown; retryAfter?: string }>,
): LoopbackHandler {
  let served = 0;
  return (req, res) => {
    const problem = attestationProblem(req, registrationId);
    if (problem !== undefined) {
      sendJson(res, 401, {
        errorCode: 401002,
        trackingId: 't-401',
        message: `Unauthorized: ${problem}`,
      });
      return;
    }
    if (req.method === 'PUT') {
      sendJson(res, 202, { operationId: 'op 1', status: 'assigning' }, { 'retry-after': '1' });
      return;
    }
    const answer = polls[Math.min(served, polls.length - 1)]!;
    served += 1;
    sendJson(
      res,
      answer.status,
      answer.body,
      answer.retryAfter ? { 'retry-after': answer.retryAfter } : {},
    );
  };
}

const assigning = {
  status: 202,
  body: { operationId: 'op 1', status: 'assigning' },
  retryAfter: '1',
};

function options(overrides: Partial<RegisterDeviceOptions>): RegisterDeviceOptions {
  return {
    globalEndpoint: server.hostName,
    idScope: SCOPE,
    registrationId: X509_ID,
    auth: { kind: 'x509', ...device },
    ca: tls.caPem,
    maxPollDelayMs: 20,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<DpsError> {
  const error = await promise.then(
    () => new Error('resolved, but should have failed'),
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(DpsError);
  const shown = JSON.stringify({ ...(error as DpsError), stack: (error as DpsError).stack });
  expect(shown).not.toContain(DEVICE_KEY);
  expect(shown).not.toContain('SharedAccessSignature sr');
  return error as DpsError;
}

describe('registerDevice', () => {
  it('X.509: client certificate in TLS, 202 → poll → 200 assigned, one connection', async () => {
    const before = server.requests.length;
    server.handle(scriptedDps(X509_ID, [assigning, assignedReply(X509_ID)]));
    const result = await registerDevice(options({ payload: { model: 'LS-1' } }));
    expect(result).toEqual({
      assignedHub: 'demo-hub-1.azure-devices.net',
      deviceId: X509_ID,
      registrationState: assignedState(X509_ID),
      status: 'assigned',
    });
    const sent = server.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}?${r.query}`)).toEqual([
      `PUT /${SCOPE}/registrations/${X509_ID}/register?api-version=2021-06-01`,
      `GET /${SCOPE}/registrations/${X509_ID}/operations/op%201?api-version=2021-06-01`,
      `GET /${SCOPE}/registrations/${X509_ID}/operations/op%201?api-version=2021-06-01`,
    ]);
    const [put, ...gets] = sent;
    expect(JSON.parse(put!.body.toString())).toEqual({
      registrationId: X509_ID,
      payload: { model: 'LS-1' },
    });
    expect(put!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(gets.every((g) => g.body.length === 0 && g.remotePort === put!.remotePort)).toBe(true);
  });

  it('X.509: a certificate from another CA is refused: DPS_REGISTRATION_FAILED with 401002', async () => {
    server.handle(scriptedDps(X509_ID, [assigning]));
    const err = await failure(registerDevice(options({ auth: { kind: 'x509', ...stranger } })));
    expect(err).toMatchObject({
      code: 'DPS_REGISTRATION_FAILED',
      status: 401,
      dpsErrorCode: 401002,
      trackingId: 't-401',
      retryable: false,
    });
    expect(err.detail).toContain('client certificate does not chain');
  });

  it('symmetric key: a SAS the server verifies on every request', async () => {
    const before = server.requests.length;
    server.handle(scriptedDps(SYM_ID, [assignedReply(SYM_ID, 'Assigned')]));
    const result = await registerDevice(
      options({
        registrationId: SYM_ID,
        auth: { kind: 'symmetricKey', deviceKeyBase64: DEVICE_KEY },
      }),
    );
    expect(result.deviceId).toBe(SYM_ID);
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent.every((r) => attestationProblem(r, SYM_ID) === undefined)).toBe(true);
    expect(JSON.parse(sent[0]!.body.toString())).toEqual({ registrationId: SYM_ID });
  });

  it('symmetric key: a wrong key is DPS_REGISTRATION_FAILED 401, the key and token not repeated', async () => {
    server.handle(scriptedDps(SYM_ID, [assigning]));
    const wrongKey = deriveDeviceKey(GROUP_KEY, 'someone-else');
    const err = await failure(
      registerDevice(
        options({
          registrationId: SYM_ID,
          auth: { kind: 'symmetricKey', deviceKeyBase64: wrongKey },
        }),
      ),
    );
    expect(err).toMatchObject({
      code: 'DPS_REGISTRATION_FAILED',
      status: 401,
      dpsErrorCode: 401002,
    });
    expect(JSON.stringify(err)).not.toContain(wrongKey);
  });

  it.each(['failed', 'disabled'])(
    '%s → DPS_REGISTRATION_FAILED with DPS errorCode and errorMessage',
    async (status) => {
      const state = {
        registrationId: X509_ID,
        status,
        errorCode: 400209,
        errorMessage: 'Device is not authorized to the hub.',
      };
      server.handle(
        scriptedDps(X509_ID, [
          { status: 200, body: { operationId: 'op 1', status, registrationState: state } },
        ]),
      );
      const err = await failure(registerDevice(options({})));
      expect(err).toMatchObject({
        code: 'DPS_REGISTRATION_FAILED',
        status: 200,
        dpsErrorCode: 400209,
      });
      expect(err.detail).toContain('Device is not authorized to the hub.');
    },
  );

  it('disabled with no errorMessage (DPS attested a device whose enrollment is disabled) says so', async () => {
    const state = { registrationId: X509_ID, status: 'disabled' };
    server.handle(
      scriptedDps(X509_ID, [
        {
          status: 200,
          body: { operationId: 'op 1', status: 'disabled', registrationState: state },
        },
      ]),
    );
    const err = await failure(registerDevice(options({})));
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 200 });
    expect(err.detail).toMatch(/registration disabled: .*enrollment .* is disabled/);
  });

  it('a failed state that echoes the token, its signature or the key keeps none in the error', async () => {
    let sig = '';
    server.handle((req, res) => {
      sig = parseSasToken(req.headers.authorization ?? '')?.sig ?? '';
      const errorMessage = `refused ${req.headers.authorization} (sig ${sig}) with key ${DEVICE_KEY}`;
      const state = { registrationId: SYM_ID, status: 'failed', errorCode: 401002, errorMessage };
      sendJson(res, 200, { operationId: 'op 1', status: 'failed', registrationState: state });
    });
    const err = await failure(
      registerDevice(
        options({
          registrationId: SYM_ID,
          auth: { kind: 'symmetricKey', deviceKeyBase64: DEVICE_KEY },
        }),
      ),
    );
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', dpsErrorCode: 401002 });
    expect(err.detail).toContain('[redacted]');
    expect(sig).not.toBe('');
    expect(err.detail).not.toContain(sig);
  });

  it('gives up with DPS_TIMEOUT after maxPolls polls', async () => {
    const before = server.requests.length;
    server.handle(scriptedDps(X509_ID, [assigning]));
    const err = await failure(registerDevice(options({ maxPolls: 3 })));
    expect(err).toMatchObject({ code: 'DPS_TIMEOUT' });
    expect(err.detail).toContain('after 3 polls');
    expect(server.requests.length - before).toBe(1 + 3);
  });

  // DPS took the registration (202 and an operation id): a throttled or failing poll says
  // nothing of it. It failed the registration at once, as not retryable.
  it('polls again after a 429, 503 or 408, within maxPolls', async () => {
    const throttled = { status: 429, body: { errorCode: 429001, message: 'throttled' } };
    const busy = { status: 503, body: { errorCode: 503000, message: 'busy' } };
    const late = { status: 408, body: { errorCode: 408000, message: 'timeout' } };
    const before = server.requests.length;
    server.handle(
      scriptedDps(X509_ID, [
        { ...throttled, retryAfter: '1' },
        busy,
        late,
        assigning,
        assignedReply(X509_ID),
      ]),
    );
    const result = await registerDevice(options({ maxPolls: 8 }));
    expect(result).toMatchObject({ status: 'assigned' });
    expect(server.requests.length - before).toBe(1 + 5);

    // Throttled for good: the polls run out, and the error says the registration was left
    // unanswered, not refused.
    server.handle(scriptedDps(X509_ID, [throttled]));
    const err = await failure(registerDevice(options({ maxPolls: 3 })));
    expect(err).toMatchObject({ code: 'DPS_TIMEOUT', status: 429 });
  });

  it('still fails at once on a poll DPS refuses for good (a 401)', async () => {
    server.handle(
      scriptedDps(X509_ID, [{ status: 401, body: { errorCode: 401002, message: 'no' } }]),
    );
    const err = await failure(registerDevice(options({ maxPolls: 8 })));
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 401 });
  });

  it('waits as long as Retry-After says, up to maxPollDelayMs', async () => {
    const before = server.requests.length;
    server.handle(scriptedDps(X509_ID, [assignedReply(X509_ID)]));
    const started = Date.now();
    await registerDevice(options({ maxPollDelayMs: 3000 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // the PUT said Retry-After: 1
    expect(server.requests.length - before).toBe(2);

    const quick = Date.now();
    server.handle(
      scriptedDps(X509_ID, [{ ...assigning, retryAfter: '60' }, assignedReply(X509_ID)]),
    );
    await registerDevice(options({ maxPollDelayMs: 50 }));
    expect(Date.now() - quick).toBeLessThan(5000);
  });

  it('waits at least a second between polls when DPS answers Retry-After: 0', async () => {
    // Retry-After: 0 asks for no wait of DPS's own; polling once per round trip would spend
    // maxPolls in a moment. The default maxPollDelayMs (3000) leaves the floor in force.
    const polledAt: number[] = [];
    const dps = scriptedDps(X509_ID, [
      { ...assigning, retryAfter: '0' },
      { ...assigning, retryAfter: '0' },
      assignedReply(X509_ID),
    ]);
    server.handle((req, res) => {
      if (req.method === 'GET') polledAt.push(performance.now());
      return dps(req, res);
    });
    const result = await registerDevice(options({ maxPollDelayMs: 3000 }));
    expect(result.status).toBe('assigned');
    expect(polledAt).toHaveLength(3);
    const gaps = polledAt.slice(1).map((at, i) => at - polledAt[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(990);
  });

  it('an assigned answer without hub or device id is DPS_RESPONSE_INVALID', async () => {
    server.handle(
      scriptedDps(X509_ID, [
        {
          status: 200,
          body: {
            operationId: 'op 1',
            status: 'assigned',
            registrationState: { registrationId: X509_ID },
          },
        },
      ]),
    );
    expect((await failure(registerDevice(options({})))).code).toBe('DPS_RESPONSE_INVALID');
  });

  it('transport failures keep their codes: reset → DPS_UNREACHABLE, silence → DPS_TIMEOUT', async () => {
    server.handle((_req, res) => {
      res.socket?.destroy();
    });
    expect((await failure(registerDevice(options({})))).code).toBe('DPS_UNREACHABLE');
    server.handle(() => undefined);
    expect((await failure(registerDevice(options({ timeoutMs: 200 })))).code).toBe('DPS_TIMEOUT');
  });

  it('an abort signal stops the registration with its reason', async () => {
    server.handle(scriptedDps(X509_ID, [assigning]));
    const controller = new AbortController();
    const reason = new Error('line stopped');
    const seen = server.nextRequest();
    const running = registerDevice(options({ signal: controller.signal, maxPollDelayMs: 60_000 }));
    await seen;
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });
});
