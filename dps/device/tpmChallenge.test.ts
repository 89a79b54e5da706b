import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSasToken, sasResource, sasSignatureMatches } from '../auth/sas.js';
import { DpsError } from '../dpsErrors.js';
import {
  sendJson,
  startLoopbackHttpsServer,
  type LoopbackHandler,
  type LoopbackHttpsServer,
  type RecordedRequest,
} from '../testing/loopbackHttpsServer.js';
import { createLoopbackTls, type LoopbackTls } from '../testing/loopbackTls.js';
import { registerDevice, type DeviceTpm } from './registrationClient.js';

/**
 * The TPM exchange of the device client (dps-protocol.md §2.5) against a scripted DPS on
 * loopback: the challenge, the token the TPM signs, what goes wrong on DPS's side. The TPM here
 * stands in for the chip, since the exchange is what is under test: it takes the
 * authenticationKey as the identity key itself. test/e2e/tpmRegistration.test.ts drives a real
 * TPM (swtpm) through the emulator's real sealed key.
 */

const SCOPE = '0ne00TPM001';
const ID = 'tpm-device-01';
const EK = randomBytes(316);
const SRK = randomBytes(282);

let tls: LoopbackTls;
let server: LoopbackHttpsServer;

beforeAll(async () => {
  tls = await createLoopbackTls({ clientCommonNames: [] });
  server = await startLoopbackHttpsServer(tls, { requestClientCertificate: false });
});
afterAll(() => server.close());

/** A TPM stand-in that records what it was asked; `refuse` makes activation fail as a TPM does. */
function keyHoldingTpm(refuse = false): DeviceTpm & { activations: number } {
  let key: Buffer | undefined;
  const tpm = {
    activations: 0,
    endorsementKey: () => Promise.resolve(new Uint8Array(EK)),
    storageRootKey: () => Promise.resolve(new Uint8Array(SRK)),
    activateIdentityKey(blob: Uint8Array) {
      tpm.activations += 1;
      if (refuse) return Promise.reject(new Error('TPM_RC_INTEGRITY'));
      key = Buffer.from(blob);
      return Promise.resolve();
    },
    signWithIdentity(data: Uint8Array) {
      if (key === undefined) return Promise.reject(new Error('no identity key loaded'));
      return Promise.resolve(new Uint8Array(createHmac('sha256', key).update(data).digest()));
    },
  };
  return tpm;
}

const assignedState = (tpm: Record<string, unknown> | undefined) => ({
  registrationId: ID,
  assignedHub: 'demo-hub-1.azure-devices.net',
  deviceId: ID,
  status: 'assigned',
  ...(tpm ? { tpm } : {}),
});

/**
 * DPS's side: a PUT without a token gets the challenge; every other request must carry a token
 * signed with the identity key under `keyName`. Then `assigning`, and the poll answers `state`.
 */
function scriptedTpmDps(
  identityKey: Buffer,
  options: { keyName?: string; state?: Record<string, unknown>; challenge?: unknown } = {},
): LoopbackHandler {
  const authenticationKey = identityKey.toString('base64');
  return (req, res) => {
    if (req.headers.authorization === undefined && req.method === 'PUT') {
      sendJson(
        res,
        401,
        options.challenge ?? {
          message: 'Authorization required, resend request using supplied key',
          authenticationKey,
          unencryptedAuthenticationKey: null,
          ...(options.keyName ? { keyName: options.keyName } : {}),
        },
      );
      return;
    }
    const problem = tokenProblem(req, identityKey, options.keyName ?? 'registration');
    if (problem !== undefined) {
      sendJson(res, 401, { errorCode: 401002, message: `Unauthorized: ${problem}` });
      return;
    }
    if (req.method === 'PUT') {
      sendJson(res, 202, { operationId: 'op-1', status: 'assigning' }, { 'retry-after': '1' });
      return;
    }
    sendJson(res, 200, {
      operationId: 'op-1',
      status: 'assigned',
      registrationState: options.state ?? assignedState({ authenticationKey }),
    });
  };
}

function tokenProblem(req: RecordedRequest, key: Buffer, keyName: string): string | undefined {
  const fields = parseSasToken(req.headers.authorization ?? '');
  if (fields === undefined) return 'no SAS token';
  if (fields.skn !== keyName) return `skn ${fields.skn}`;
  // The Node TPM client URL-encodes sr; the signature covers it as sent.
  if (fields.sr !== encodeURIComponent(`${SCOPE}/registrations/${ID}`)) return 'sr not encoded';
  if (sasResource(fields) !== `${SCOPE}/registrations/${ID}`.toLowerCase()) return 'sr';
  return sasSignatureMatches(fields, key.toString('base64')) ? undefined : 'signature';
}

const register = (tpm: DeviceTpm) =>
  registerDevice({
    globalEndpoint: server.hostName,
    idScope: SCOPE,
    registrationId: ID,
    auth: { kind: 'tpm', tpm },
    ca: tls.caPem,
    maxPollDelayMs: 20,
  });

async function failure(promise: Promise<unknown>): Promise<DpsError> {
  const error = await promise.then(
    () => new Error('resolved, but should have failed'),
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(DpsError);
  expect(JSON.stringify({ ...(error as DpsError) })).not.toContain('SharedAccessSignature sr');
  return error as DpsError;
}

describe('registerDevice with a TPM', () => {
  it('takes the challenge, has the TPM sign its token, and sends it with the PUT and each poll', async () => {
    const key = randomBytes(32);
    const before = server.requests.length;
    server.handle(scriptedTpmDps(key));
    const tpm = keyHoldingTpm();
    const result = await register(tpm);
    expect(result).toMatchObject({ status: 'assigned', deviceId: ID });
    expect(tpm.activations).toBe(1);

    const sent = server.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.headers.authorization ? 'token' : 'none'}`)).toEqual([
      'PUT none',
      'PUT token',
      'GET token',
    ]);
    const body = JSON.parse(sent[0]!.body.toString()) as Record<string, unknown>;
    expect(body).toEqual({
      registrationId: ID,
      tpm: { endorsementKey: EK.toString('base64'), storageRootKey: SRK.toString('base64') },
    });
    expect(JSON.parse(sent[1]!.body.toString())).toEqual(body);
  });

  it('signs under the keyName DPS gives (the C SDK’s skn)', async () => {
    server.handle(scriptedTpmDps(randomBytes(32), { keyName: 'registration-tpm' }));
    expect((await register(keyHoldingTpm())).status).toBe('assigned');
  });

  it('a keyName that is no policy name is not put in the token: skn stays registration', async () => {
    const key = randomBytes(32);
    const honest = scriptedTpmDps(key);
    server.handle((req, res) => {
      if (req.headers.authorization !== undefined) return honest(req, res);
      sendJson(res, 401, {
        authenticationKey: key.toString('base64'),
        keyName: 'registration&sig=forged&x=' + 'y'.repeat(80),
      });
    });
    expect((await register(keyHoldingTpm())).status).toBe('assigned');
  });

  it('an abort while the TPM works ends the registration at once with the signal’s reason', async () => {
    server.handle(scriptedTpmDps(randomBytes(32)));
    const controller = new AbortController();
    const reason = new Error('line stopped');
    const stuck: DeviceTpm = {
      ...keyHoldingTpm(),
      // A TPM that never answers, and the line stopping while it is asked.
      activateIdentityKey: () => {
        setImmediate(() => controller.abort(reason));
        return new Promise<void>(() => undefined);
      },
    };
    const running = registerDevice({
      globalEndpoint: server.hostName,
      idScope: SCOPE,
      registrationId: ID,
      auth: { kind: 'tpm', tpm: stuck },
      ca: tls.caPem,
      signal: controller.signal,
    });
    await expect(running).rejects.toBe(reason);
  });

  it('a 401 without a challenge is DPS_REGISTRATION_FAILED; the TPM is not asked', async () => {
    server.handle(
      scriptedTpmDps(randomBytes(32), {
        challenge: { errorCode: 401002, message: 'Unauthorized: no TPM enrollment' },
      }),
    );
    const tpm = keyHoldingTpm();
    const err = await failure(register(tpm));
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 401 });
    expect(err.detail).toContain('no TPM enrollment');
    expect(tpm.activations).toBe(0);
  });

  it('a challenge whose key is not base64 is no challenge: the TPM is not asked', async () => {
    server.handle(
      scriptedTpmDps(randomBytes(32), { challenge: { authenticationKey: 'not base64!' } }),
    );
    const tpm = keyHoldingTpm();
    expect((await failure(register(tpm))).code).toBe('DPS_REGISTRATION_FAILED');
    expect(tpm.activations).toBe(0);
  });

  it('a refusal that echoes the TPM-signed token keeps neither the token nor its signature', async () => {
    const key = randomBytes(32);
    const honest = scriptedTpmDps(key);
    let token = '';
    server.handle((req, res) => {
      if (req.headers.authorization === undefined) return honest(req, res);
      token = req.headers.authorization;
      const sig = decodeURIComponent(/sig=([^&]+)/.exec(token)![1]!);
      sendJson(res, 401, { errorCode: 401002, message: `refused ${token} (sig ${sig})` });
    });
    const err = await failure(register(keyHoldingTpm()));
    expect(err).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 401 });
    const sig = decodeURIComponent(/sig=([^&]+)/.exec(token)![1]!);
    const shown = JSON.stringify({ ...err, message: err.message });
    expect(shown).not.toContain(sig);
    expect(shown).not.toContain(encodeURIComponent(sig));
  });

  it('any TPM failure is a coded DPS_REGISTRATION_FAILED, even one that throws no Error', async () => {
    server.handle(scriptedTpmDps(randomBytes(32)));
    const silentEk: DeviceTpm = {
      ...keyHoldingTpm(),
      endorsementKey: () => Promise.reject(new Error('TPM_RC_HANDLE')),
    };
    const ek = await failure(register(silentEk));
    expect(ek.detail).toMatch(/TPM could not read its EK: TPM_RC_HANDLE/);
    const stringly: DeviceTpm = {
      ...keyHoldingTpm(),
      activateIdentityKey: () => Promise.reject('TPM_RC_FAILURE' as unknown as Error),
    };
    expect((await failure(register(stringly))).detail).toMatch(/TPM_RC_FAILURE/);
    const noSign: DeviceTpm = {
      ...keyHoldingTpm(),
      signWithIdentity: () => Promise.reject(new Error('TPM_RC_AUTH_FAIL')),
    };
    expect((await failure(register(noSign))).detail).toMatch(/sign the registration token/);
  });

  it('a TPM that cannot import the key fails the registration, and nothing more is sent', async () => {
    const before = server.requests.length;
    server.handle(scriptedTpmDps(randomBytes(32)));
    const err = await failure(register(keyHoldingTpm(true)));
    expect(err.code).toBe('DPS_REGISTRATION_FAILED');
    expect(err.detail).toMatch(/TPM could not import the identity key .*TPM_RC_INTEGRITY/);
    expect(server.requests.length - before).toBe(1);
  });

  it('a TPM device admitted without a challenge is DPS_RESPONSE_INVALID', async () => {
    server.handle((_req, res) => sendJson(res, 202, { operationId: 'op-1', status: 'assigning' }));
    expect((await failure(register(keyHoldingTpm()))).code).toBe('DPS_RESPONSE_INVALID');
  });

  it('an assignment without tpm.authenticationKey is DPS_RESPONSE_INVALID (the C SDK fails it)', async () => {
    server.handle(scriptedTpmDps(randomBytes(32), { state: assignedState(undefined) }));
    expect((await failure(register(keyHoldingTpm()))).code).toBe('DPS_RESPONSE_INVALID');
  });
});
